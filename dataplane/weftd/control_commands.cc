#include "dataplane/weftd/control_commands.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/weftd/lb_health_monitor.h"
#include "dataplane/weftd/conns_command.h"
#include "dataplane/weftd/qos_report.h"

namespace weft::dp {

using nlohmann::json;

namespace {

json port_json(const DataplanePort& p, std::span<const std::unique_ptr<Worker>> workers) {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
  uint64_t sg_ingress_denied = 0, sg_egress_denied = 0;
  for (const auto& w : workers) {
    const PortStats& s = w->stats().ports[p.dev.id];
    rx_packets += s.rx_packets.get();
    rx_bytes += s.rx_bytes.get();
    tx_packets += s.tx_packets.get();
    tx_bytes += s.tx_bytes.get();
    drops += s.drops.get();
    sg_ingress_denied += s.sg_ingress_denied.get();
    sg_egress_denied += s.sg_egress_denied.get();
  }
  json j = {
      {"name", p.name},
      {"kind", std::string(port_kind_name(p.role, p.kind))},
      {"port_id", p.dev.id},
      {"device", p.dev.devargs},
      {"rx_packets", rx_packets},
      {"rx_bytes", rx_bytes},
      {"tx_packets", tx_packets},
      {"tx_bytes", tx_bytes},
      {"drops", drops},
      {"sg_ingress_denied", sg_ingress_denied},
      {"sg_egress_denied", sg_egress_denied},
  };
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(p.dev.id, &link) == 0) {
    j["link"] = link.link_status == RTE_ETH_LINK_UP ? "up" : "down";
    if (link.link_status == RTE_ETH_LINK_UP && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
      j["speed_mbps"] = link.link_speed;
  } else {
    j["link"] = "unknown";
  }
  // What the device saw that never reached a worker.
  rte_eth_stats dev{};
  if (rte_eth_stats_get(p.dev.id, &dev) == 0) {
    j["rx_missed"] = dev.imissed;
    j["rx_errors"] = dev.ierrors;
    j["rx_nombuf"] = dev.rx_nombuf;
    j["tx_errors"] = dev.oerrors;
  }
  return j;
}

// The worker's connection table (flow cache), when its graph has one.
json conntrack_json(const ConnTable& t) {
  const ConnTableStats& s = t.stats();
  json evicted = json::object();
  const char* const kClasses[] = {"closing", "embryonic", "assured"};
  for (size_t c = 0; c < kConnClassCount; ++c) evicted[kClasses[c]] = s.evicted[c].get();
  return {
      {"connections", t.size()},
      {"assured", t.size(ConnClass::kAssured)},
      {"embryonic", t.size(ConnClass::kEmbryonic)},
      {"closing", t.size(ConnClass::kClosing)},
      {"capacity", t.capacity()},
      {"bytes_per_entry", ConnTable::bytes_per_entry(t.capacity())},
      {"memory_bytes", t.memory_bytes()},
      {"hits", s.hits.get()},
      {"misses", s.misses.get()},
      {"created", s.created.get()},
      {"expired", s.expired.get()},
      {"removed", s.removed.get()},
      {"cut", s.cut.get()},
      {"evicted", std::move(evicted)},
      {"full", s.full.get()},
  };
}

json worker_json(const Worker& w, const WorkerGraph& graph) {
  const WorkerStats& s = w.stats();
  uint64_t rx = 0;
  for (const PortStats& p : s.ports) rx += p.rx_packets.get();
  const uint64_t busy = s.busy_cycles.get();
  json j = {
      {"index", w.index()},
      {"lcore", w.lcore()},
      {"polls", s.polls.get()},
      {"idle_polls", s.idle_polls.get()},
      {"sleeps", s.sleeps.get()},
      {"busy_cycles", busy},
      {"rx_packets", rx},
      {"cycles_per_packet", rx == 0 ? 0.0 : static_cast<double>(busy) / static_cast<double>(rx)},
      // Several workers: packets handed to their connection's owner, and taken from the others.
      {"handoff_sent", s.handoff_sent.get()},
      {"handoff_received", s.handoff_received.get()},
  };
  if (graph.conntrack) j["conntrack"] = conntrack_json(*graph.conntrack);
  return j;
}

// The router's and the DHCP server's work, summed over the workers: what an
// operator asks first when a VM has no address or traceroute shows stars.
json router_json(const Dataplane& dp) {
  uint64_t sent = 0, limited = 0;
  for (const auto& w : dp.workers()) {
    sent += w->stats().icmp_errors_sent.get();
    limited += w->stats().icmp_errors_limited.get();
  }
  json dhcp = json::object();
  for (size_t v = 0; v < kDhcpVerdictCount; ++v) {
    uint64_t n = 0;
    for (const auto& g : dp.graphs())
      if (g->dhcp != nullptr) n += g->dhcp->stats().verdicts[v].get();
    dhcp[std::string(kDhcpVerdictNames[v])] = n;
  }
  return {{"icmp_errors_sent", sent}, {"icmp_errors_limited", limited}, {"dhcp", std::move(dhcp)}};
}

}  // namespace

json stats_report(const Dataplane& dp, const ControllerStatus& controller) {
  json ports = json::array();
  for (const DataplanePort& p : dp.ports()) ports.push_back(port_json(p, dp.workers()));

  // Each reason's total, and by the stage that dropped (only stages that did).
  json drops = json::array();
  for (size_t r = 1; r < kDropReasonCount; ++r) {  // 0 is "none"
    uint64_t count = 0;
    json stages = json::object();
    for (size_t node = 0; node < kNodeCount; ++node) {
      uint64_t n = 0;
      for (const auto& w : dp.workers()) n += w->stats().drops[node][r].get();
      if (n != 0) stages[std::string(kNodeNames[node])] = n;
      count += n;
    }
    drops.push_back({{"reason", kDropReasonNames[r]},
                     {"count", count},
                     {"stages", std::move(stages)},
                     {"description", kDropReasonDescriptions[r]}});
  }

  json workers = json::array();
  for (size_t i = 0; i < dp.workers().size(); ++i)
    workers.push_back(worker_json(*dp.workers()[i], *dp.graphs()[i]));

  json report = {
      {"node", dp.config().node},
      {"mode", forwarding_mode_name(dp.mode())},
      {"generation", dp.snapshot().generation},
      {"policy_version", dp.snapshot().policy_version},
      {"tsc_hz", rte_get_tsc_hz()},
      {"ports", std::move(ports)},
      {"drops", std::move(drops)},
      {"workers", std::move(workers)},
      {"router", router_json(dp)},
      {"qos", qos_report(dp)},
  };
  if (dp.lb_health() != nullptr) report["lb_health"] = dp.lb_health()->report(dp.snapshot());
  if (controller) report["controller"] = controller();
  return report;
}

json status_report(const Dataplane& dp, const ControllerStatus& controller) {
  json report = {
      {"node", dp.config().node},
      {"mode", forwarding_mode_name(dp.mode())},
      {"generation", dp.snapshot().generation},
      {"policy_version", dp.snapshot().policy_version},
      {"ports", dp.ports().size()},
      {"workers", dp.workers().size()},
  };
  if (controller) report["controller"] = controller();
  return report;
}

void register_control_commands(ControlServer& server, const Dataplane& dp, ControllerStatus controller) {
  server.add_command("stats", [&dp, controller](const json&) { return stats_report(dp, controller); });
  server.add_command("status", [&dp, controller](const json&) { return status_report(dp, controller); });
  server.add_command("conns", [&dp](const json& request) { return conns_report(dp, request); });
}

}  // namespace weft::dp
