#pragma once
// Helpers for control-plane tests and benchmarks: a development PKI made once
// per process with scripts/dev-ca in a temporary directory, temporary
// directories that are removed at exit, io_contexts on their own threads
// (a controller and its nodes run as they would in separate processes),
// captured logs, generated policies, and waiting for a condition (tests wait
// for events, never for fixed times).
//
// Call from the test thread unless a member says otherwise. The PKI and temp
// dirs are process-wide and removed by an atexit hook.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/log.h"
#include "common/transport/tls.h"

namespace weft::test {

// A fresh directory under $TMPDIR, removed at exit.
std::string make_temp_dir(const std::string& prefix);

// Certificates from scripts/dev-ca: "ca", "controller", "client" and one per
// name in `nodes`, under a directory shared by every call with the same
// `authority` (a second authority is a different, untrusted CA). Aborts the
// process if openssl fails: nothing else can run without it.
class Pki {
 public:
  explicit Pki(const std::vector<std::string>& nodes, const std::string& authority = "main");

  std::string pem(const std::string& who) const { return dir_ + "/" + who + ".pem"; }
  std::string key(const std::string& who) const { return dir_ + "/" + who + ".key"; }
  std::string ca() const { return pem("ca"); }
  // The CA's revocation list (scripts/dev-ca keeps it current).
  std::string crl() const { return dir_ + "/crl.pem"; }
  // Adds `who`'s certificate to the CRL (for every user of this authority).
  void revoke(const std::string& who) const;
  const std::string& dir() const { return dir_; }
  // CA of this authority, `who`'s certificate and key.
  ctl::TlsFiles files(const std::string& who) const { return {ca(), pem(who), key(who)}; }

 private:
  std::string dir_;
};

// Runs handlers on `io` until `done()` holds or `timeout` passes; returns
// done(). For single-threaded tests that own the io_context.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Polls `done()` (for state owned by other threads) every millisecond.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// An io_context run by its own thread until destruction. call() runs a
// function on that thread and returns its result: objects that live on the
// io thread are created, used and destroyed through it.
class IoThread {
 public:
  IoThread();
  ~IoThread();  // stops the io_context, drops pending handlers, joins
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& io() { return io_; }

  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

// A Log whose lines are kept for the test to search (any thread may log).
class CapturedLog {
 public:
  ctl::Log log();
  bool contains(std::string_view needle) const;
  std::string text() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A valid policy: `nodes` named node-0.. (or the given names), one network
// "blue" with one /16 subnet, and `ports` ports p0.. spread round-robin over
// the nodes; `variant` changes port p0's address (a one-port change).
std::string test_policy(const std::vector<std::string>& nodes, int ports, int variant = 0);
std::vector<std::string> node_names(int n);

}  // namespace weft::test
