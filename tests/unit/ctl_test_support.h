#pragma once
// Helpers for control-plane tests and benchmarks: a development PKI made once
// per process with scripts/dev-ca in a temporary directory, temporary
// directories that are removed at exit, and polling an io_context until a
// condition holds (tests wait for events, never for fixed times).
//
// Call from the test thread. The PKI and temp dirs are process-wide and
// removed by an atexit hook.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "control/transport/tls.h"

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

}  // namespace weft::test
