// A weftd stand-in for process-level tests: the real node agent with an
// `apply` that only prints what it received, one line per version.
//
//   fake_node --node NAME --controller HOST:PORT --ca F --cert F --key F
//             [--fail-version V]    answer V with a failed apply
//
// Runs until SIGTERM/SIGINT; exit 0 then, 2 on a usage or setup error.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/transport/host_port.h"
#include "dataplane/agent/controller_agent.h"

int main(int argc, char** argv) {
  weft::agent::ControllerAgentOptions o;
  std::string controller;
  uint64_t fail_version = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--node") o.node = v;
    else if (a == "--controller") controller = v;
    else if (a == "--ca") o.tls.ca = v;
    else if (a == "--cert") o.tls.cert = v;
    else if (a == "--key") o.tls.key = v;
    else if (a == "--fail-version") fail_version = std::strtoull(v.c_str(), nullptr, 10);
    else return std::fprintf(stderr, "fake_node: unknown option %s\n", a.c_str()), 2;
  }
  auto hp = weft::ctl::parse_host_port(controller);
  if (!hp) return std::fprintf(stderr, "fake_node: --controller %s\n", hp.error().c_str()), 2;
  o.controller_host = hp->host;
  o.controller_port = hp->port;
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  o.log = weft::ctl::Log::to_stderr("fake_node " + o.node);

  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(1);
  auto agent = weft::agent::ControllerAgent::create(
      io, o, [&](const weft::proto::NodeTables& t, uint64_t version) -> std::string {
        if (version == fail_version) return "refusing version " + std::to_string(version) + " (test)";
        std::printf("applied version %llu: node %s, %d ports\n",
                    static_cast<unsigned long long>(version), t.node().c_str(), t.ports_size());
        std::fflush(stdout);
        return "";
      });
  if (!agent) return std::fprintf(stderr, "fake_node: %s\n", agent.error().c_str()), 2;
  (*agent)->start();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { (*agent)->stop(); });
  io.run();
  return 0;
}
