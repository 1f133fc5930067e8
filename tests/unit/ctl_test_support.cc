#include "tests/unit/ctl_test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace weft::test {
namespace {

std::mutex g_mu;
std::vector<std::string>* g_dirs = nullptr;

void remove_dirs() {
  std::lock_guard lock(g_mu);
  if (!g_dirs) return;
  for (const auto& d : *g_dirs) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
  }
}

}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  std::lock_guard lock(g_mu);
  if (!g_dirs) {
    g_dirs = new std::vector<std::string>;
    std::atexit(remove_dirs);
  }
  g_dirs->push_back(tmpl);
  return tmpl;
}

Pki::Pki(const std::vector<std::string>& nodes, const std::string& authority) {
  static std::map<std::string, std::string> dirs;
  static std::mutex mu;
  {
    std::lock_guard lock(mu);
    auto& d = dirs[authority];
    if (d.empty()) d = make_temp_dir("weft-pki-" + authority);
    dir_ = d;
  }
  // dev-ca is idempotent: it adds only the certificates that are missing.
  std::string cmd = std::string("'") + WEFT_DEV_CA + "' '" + dir_ + "'";
  for (const auto& n : nodes) cmd += " '" + n + "'";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "test PKI: '%s' failed (%d)\n", cmd.c_str(), rc);
    std::abort();
  }
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace weft::test
