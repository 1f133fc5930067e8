// weftd: one node's dataplane. Loads node.yaml, starts DPDK's EAL, opens the
// underlay and every bound vNIC, runs the workers, and from the main lcore
// serves the control socket and takes its tables from a local policy
// (--policy) or from the controller node.yaml names, and Prometheus /metrics
// (node.yaml `metrics`) and DPDK telemetry commands, until SIGTERM or SIGINT.
//
//   weftd --config node.yaml [--policy FILE_OR_DIR ...] [--xconnect] [-- EAL ARGS...]
//
// Exit status: 0 after a clean stop, 1 when the dataplane cannot start,
// 2 on a usage error or a bad config.

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/prometheus/metrics_server.h"
#include "dataplane/config/node_config.h"
#include "dataplane/control_socket/control_server.h"
#include "dataplane/weftd/control_commands.h"
#include "dataplane/weftd/controller_mode.h"
#include "dataplane/weftd/dataplane.h"
#include "dataplane/weftd/eal_args.h"
#include "dataplane/metrics/node_metrics.h"
#include "dataplane/metrics/telemetry.h"
#include "dataplane/weftd/standalone.h"
#include "dataplane/weftd/trace_command.h"

namespace weft::dp {
namespace {

struct Options {
  std::string config;
  std::vector<std::string> policies;
  bool xconnect = false;
  std::vector<std::string> eal_extra;
};

constexpr const char* kUsage =
    "usage: weftd --config NODE.yaml [--policy FILE_OR_DIR ...] [--xconnect] [-- EAL ARGS...]\n"
    "\n"
    "  --config F      the node configuration (see docs/operations.md)\n"
    "  --policy P      run standalone on a local policy (repeatable; SIGHUP reloads\n"
    "                  it); without it, weftd takes its tables from the controller\n"
    "  --xconnect      benchmarking mode: forward each port to a fixed peer port\n"
    "                  (underlay <-> first vNIC, ...) after parsing, no tables\n"
    "  -- EAL ARGS     extra DPDK EAL arguments, e.g. --log-level=pmd.net.*:debug\n";

bool parse_options(int argc, char** argv, Options& o, int& exit_code) {
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return false;
    } else if ((a == "--config" || a == "--policy") && !has_value) {
      std::fprintf(stderr, "weftd: %s needs a value\n%s", a.c_str(), kUsage);
      return false;
    } else if (a == "--config") {
      o.config = argv[++i];
    } else if (a == "--policy") {
      o.policies.push_back(argv[++i]);
    } else if (a == "--xconnect") {
      o.xconnect = true;
    } else if (a == "--") {
      o.eal_extra.assign(argv + i + 1, argv + argc);
      break;
    } else {
      std::fprintf(stderr, "weftd: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return false;
    }
  }
  if (o.config.empty()) {
    std::fprintf(stderr, "weftd: --config is required\n%s", kUsage);
    return false;
  }
  return true;
}

// Everything between rte_eal_init and rte_eal_cleanup. `tables`: the local
// policy compiled for this node (standalone mode), or null: then the tables
// come from the controller when node.yaml names one.
int run(const NodeConfig& cfg, const Options& opt, bool hugepages, const proto::NodeTables* tables,
        const proto::NodeSources* sources) {
  boost::asio::io_context io;
  const ForwardingMode mode = opt.xconnect ? ForwardingMode::kXconnect : ForwardingMode::kPolicy;
  std::string error;
  auto dp = Dataplane::create(cfg, mode, io, error);
  if (!dp) {
    std::fprintf(stderr, "weftd: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<PolicyReloader> reloader;
  if (tables != nullptr) {
    if (!publish_tables(*dp, *tables, 1, error, sources)) {
      std::fprintf(stderr, "weftd: %s: not starting\n", error.c_str());
      return 2;
    }
    reloader = std::make_unique<PolicyReloader>(io, *dp, opt.policies, cfg.node, 1);
  }
  if (!dp->start(error)) {
    std::fprintf(stderr, "weftd: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<agent::ControllerAgent> agent;
  ControllerStatus controller_status;
  if (tables == nullptr && mode == ForwardingMode::kPolicy && cfg.controller) {
    agent = start_controller_agent(io, *dp, cfg, error);
    if (!agent) {
      std::fprintf(stderr, "weftd: %s\n", error.c_str());
      return 2;
    }
    controller_status = [&agent, &cfg] { return controller_status_json(*agent, *cfg.controller); };
  }
  ControlServer::Options control_options;
  control_options.group = cfg.control_socket_gid;  // node.yaml control_socket_group
  ControlServer control(io, cfg.control_socket, control_options);
  register_control_commands(control, *dp, controller_status);
  register_trace_command(control, *dp);
  if (!control.start(error)) {
    std::fprintf(stderr, "weftd: %s\n", error.c_str());
    return 1;
  }

  // Prometheus scrapes, served here on the main lcore like the control
  // socket; the workers are never asked anything.
  std::unique_ptr<prom::MetricsServer> metrics;
  std::string metrics_note;
  if (cfg.metrics) {
    prom::MetricsServerOptions mo;
    mo.log = ctl::Log::to_stderr("weftd");
    metrics = std::make_unique<prom::MetricsServer>(
        io, [&dp, &controller_status] { return render_node_metrics(collect_node_metrics(*dp, controller_status)); },
        std::move(mo));
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(cfg.metrics->address, ec);
    auto bound = metrics->listen({addr, cfg.metrics->port});
    if (ec || !bound) {
      std::fprintf(stderr, "weftd: metrics: %s\n", ec ? ec.message().c_str() : bound.error().c_str());
      return 1;
    }
    const bool v6 = bound->address().is_v6();
    metrics_note = std::string(", metrics http://") + (v6 ? "[" : "") + bound->address().to_string() +
                   (v6 ? "]" : "") + ":" + std::to_string(bound->port()) + "/metrics";
  }
  // DPDK telemetry (dpdk-telemetry.py): /weft/ports, /weft/drops, /weft/conntrack.
  auto telemetry = std::make_unique<TelemetryCommands>(*dp);
  if (!telemetry->registered())
    std::fprintf(stderr, "weftd: warning: DPDK telemetry is off: /weft/* telemetry commands not registered\n");

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    std::fprintf(stderr, "weftd: %s: stopping\n", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    if (agent) agent->stop();
    if (metrics) metrics->stop();
    telemetry.reset();
    control.stop();
    dp->stop();
    io.stop();
  });

  std::fprintf(stderr, "weftd: node %s ready: %zu ports, %zu worker(s), %s mode, %s, control socket %s%s\n",
               cfg.node.c_str(), dp->ports().size(), dp->workers().size(),
               std::string(forwarding_mode_name(mode)).c_str(),
               hugepages ? "hugepages" : "ordinary memory", cfg.control_socket.c_str(), metrics_note.c_str());
  if (agent)
    std::fprintf(stderr, "weftd: controller mode: tables from %s:%u; until they come, packets are dropped as no_policy\n",
                 cfg.controller->host.c_str(), cfg.controller->port);
  else if (mode == ForwardingMode::kPolicy && tables == nullptr)
    std::fprintf(stderr, "weftd: no policy applied yet and no controller in %s: packets are dropped as no_policy\n",
                 cfg.file.c_str());

  io.run();
  agent.reset();
  metrics.reset();
  telemetry.reset();  // before the Dataplane its callbacks read
  control.stop();
  dp.reset();  // workers joined, ports closed, memory freed
  return 0;
}

}  // namespace
}  // namespace weft::dp

int main(int argc, char** argv) {
  using namespace weft::dp;
  Options opt;
  int exit_code = 0;
  if (!parse_options(argc, argv, opt, exit_code)) return exit_code;

  weft::Diagnostics diags;
  auto cfg = load_node_config(opt.config, diags);
  if (cfg) check_lcores_available(*cfg, diags);
  if (!diags.ok()) {
    std::fputs(diags.format().c_str(), stderr);
    return 2;
  }
  // Standalone: an invalid policy refuses the start, before DPDK is touched.
  std::optional<weft::proto::NodeTables> tables;
  weft::proto::NodeSources sources;
  if (!opt.policies.empty()) {
    std::string error;
    tables = compile_local_policy(opt.policies, cfg->node, error, &sources);
    if (!tables) {
      std::fprintf(stderr, "%s: not starting\n", error.c_str());
      return 2;
    }
  }

  std::signal(SIGPIPE, SIG_IGN);
  const EalPlan plan = plan_eal(*cfg, probe_hugepages(), opt.eal_extra);
  if (!plan.hugepages)
    std::fprintf(stderr, "weftd: running on ordinary memory (--no-huge -m %u): %s\n",
                 cfg->dpdk.memory_mb, plan.memory_note.c_str());
  std::vector<char*> eal_argv;
  for (const std::string& a : plan.args) eal_argv.push_back(const_cast<char*>(a.c_str()));
  eal_argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(eal_argv.size() - 1), eal_argv.data()) < 0) {
    std::fprintf(stderr, "weftd: cannot start DPDK's EAL: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  // dpdk-dumpcap (a secondary process on weftd's file prefix) captures a
  // port's traffic through rte_pdump's rx/tx callbacks; it can attach only
  // to a primary whose memory is shared, on hugepages.
  const bool pdump = plan.hugepages && rte_pdump_init() == 0;
  if (plan.hugepages && !pdump)
    std::fprintf(stderr, "weftd: warning: rte_pdump_init: %s: dpdk-dumpcap cannot attach\n", rte_strerror(rte_errno));
  const int rc = run(*cfg, opt, plan.hugepages, tables ? &*tables : nullptr, tables ? &sources : nullptr);
  if (pdump) rte_pdump_uninit();
  rte_eal_cleanup();
  return rc;
}
