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

namespace {

void run_dev_ca(const std::string& args) {
  std::string cmd = std::string("'") + WEFT_DEV_CA + "' " + args;
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "test PKI: '%s' failed (%d)\n", cmd.c_str(), rc);
    std::abort();
  }
}

}  // namespace

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
  std::string args = "'" + dir_ + "'";
  for (const auto& n : nodes) args += " '" + n + "'";
  run_dev_ca(args);
}

void Pki::revoke(const std::string& who) const { run_dev_ca("'" + dir_ + "' --revoke '" + who + "'"); }

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

IoThread::IoThread()
    : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

IoThread::~IoThread() {
  work_.reset();
  io_.stop();
  thread_.join();
}

ctl::Log CapturedLog::log() {
  return ctl::Log(
      [this](ctl::LogLevel level, std::string_view msg) {
        std::lock_guard lock(mu_);
        lines_.push_back(std::string(ctl::log_level_name(level)) + ": " + std::string(msg));
      },
      ctl::LogLevel::kDebug);
}

bool CapturedLog::contains(std::string_view needle) const {
  std::lock_guard lock(mu_);
  for (const auto& l : lines_)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

std::string CapturedLog::text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

std::vector<std::string> node_names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("node-" + std::to_string(i));
  return out;
}

std::string test_policy(const std::vector<std::string>& nodes, int ports, int variant) {
  std::string y = "version: 1\nnodes:\n";
  for (size_t i = 0; i < nodes.size(); ++i)
    y += "  - {name: " + nodes[i] + ", underlay_ip: 172.31." + std::to_string(i / 250) + "." +
         std::to_string(i % 250 + 1) + "}\n";
  y += "networks:\n  - name: blue\n    vni: 5001\n    subnets:\n"
       "      - {name: web, cidr: 10.1.0.0/16}\n";
  if (ports > 0) y += "ports:\n";
  for (int p = 0; p < ports; ++p) {
    // Port p0 moves between two addresses with `variant`; the others stay.
    int host = p == 0 ? 40000 + 10000 * (variant % 2) + variant / 2 % 5000 : 10 + p;
    y += "  - {name: p" + std::to_string(p) + ", network: blue, subnet: web, node: " +
         nodes[static_cast<size_t>(p) % nodes.size()] + ", ip: 10.1." + std::to_string(host / 256) +
         "." + std::to_string(host % 256) + "}\n";
  }
  return y;
}

}  // namespace weft::test
