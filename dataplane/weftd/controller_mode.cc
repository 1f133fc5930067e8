#include "dataplane/weftd/controller_mode.h"

#include "dataplane/weftd/lb_health_monitor.h"
#include "dataplane/weftd/standalone.h"

namespace weft::dp {

std::unique_ptr<agent::ControllerAgent> start_controller_agent(boost::asio::io_context& io,
                                                               Dataplane& dp, const NodeConfig& cfg,
                                                               std::string& error) {
  const ControllerConfig& c = *cfg.controller;
  agent::ControllerAgentOptions o;
  o.node = cfg.node;
  o.controller_host = c.host;
  o.controller_port = c.port;
  o.tls = {c.ca, c.cert, c.key};
  o.log = ctl::Log::to_stderr("weftd");
  // The backends some node found down: this node's tables leave them out.
  o.on_health = [&dp](const proto::HealthState& state) {
    LbHealth down;
    for (const proto::BackendHealth& b : state.down()) down.emplace(b.load_balancer(), b.port());
    if (dp.lb_health() != nullptr) dp.lb_health()->set_remote_down(std::move(down));
  };
  auto created = agent::ControllerAgent::create(
      io, std::move(o), [&dp](const proto::NodeTables& tables, uint64_t version) -> std::string {
        std::string why;
        if (!publish_tables(dp, tables, version, why)) return why;
        // The ack promises the whole node runs `version`: wait for every
        // worker to pass a quiescent state (a burst at most; a sleeping
        // worker is offline and holds nothing up).
        dp.synchronize();
        return "";
      });
  if (!created) {
    error = "controller: " + created.error();
    return nullptr;
  }
  std::unique_ptr<agent::ControllerAgent> agent = std::move(*created);
  // What this node's probes find goes to the controller, which relays it
  // to every node. (The agent outlives every tick: both live until
  // io.run() returns.)
  if (dp.lb_health() != nullptr)
    dp.lb_health()->on_report([a = agent.get()](const std::vector<LbHealthMonitor::BackendHealth>& backends) {
      proto::HealthReport report;
      for (const auto& b : backends) {
        proto::BackendHealth* out = report.add_backends();
        out->set_load_balancer(b.lb);
        out->set_port(b.port);
        out->set_up(b.up);
      }
      a->report_health(std::move(report));
    });
  agent->start();
  return agent;
}

nlohmann::json controller_status_json(const agent::ControllerAgent& agent, const ControllerConfig& cfg) {
  const agent::AgentStatus s = agent.status();
  return {
      {"address", cfg.host + ":" + std::to_string(cfg.port)},
      {"connected", s.connected},
      {"applied_version", s.applied_version},
      {"last_error", s.last_error},
      {"sessions", s.sessions},
      {"tables_received", s.tables_received},
      {"tables_applied", s.tables_applied},
  };
}

}  // namespace weft::dp
