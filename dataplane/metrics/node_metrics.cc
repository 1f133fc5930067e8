#include "dataplane/metrics/node_metrics.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "common/prometheus/text_format.h"
#include "dataplane/dhcp/dhcp_stage.h"
#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/worker_stats.h"

namespace weft::dp {

NodeMetrics collect_counters(const Dataplane& dp) {
  NodeMetrics m;
  m.node = dp.config().node;
  m.mode = std::string(forwarding_mode_name(dp.mode()));
  m.tsc_hz = rte_get_tsc_hz();
  const auto workers = dp.workers();

  for (const DataplanePort& p : dp.ports()) {
    PortMetrics pm;
    pm.name = p.name;
    pm.kind = std::string(port_kind_name(p.role, p.kind));
    pm.port_id = p.dev.id;
    if (p.dev.id < kMaxPorts) {
      for (const auto& w : workers) {
        const PortStats& s = w->stats().ports[p.dev.id];
        pm.rx_packets += s.rx_packets.get();
        pm.rx_bytes += s.rx_bytes.get();
        pm.tx_packets += s.tx_packets.get();
        pm.tx_bytes += s.tx_bytes.get();
        pm.drops += s.drops.get();
        pm.sg_ingress_denied += s.sg_ingress_denied.get();
        pm.sg_egress_denied += s.sg_egress_denied.get();
      }
    }
    m.ports.push_back(std::move(pm));
  }

  for (size_t node = 0; node < kNodeCount; ++node)
    for (size_t r = 1; r < kDropReasonCount; ++r) {  // 0 is "none"
      uint64_t n = 0;
      for (const auto& w : workers) n += w->stats().drops[node][r].get();
      if (n != 0) m.drops.push_back({kNodeNames[node], kDropReasonNames[r], n});
    }

  const auto graphs = dp.graphs();
  for (size_t i = 0; i < workers.size(); ++i) {
    const Worker& w = *workers[i];
    const WorkerStats& s = w.stats();
    m.workers.push_back({w.index(), w.lcore(), s.busy_cycles.get(), s.polls.get(), s.idle_polls.get(),
                         s.sleeps.get(), s.handoff_sent.get(), s.handoff_received.get()});
    m.icmp_errors_sent += s.icmp_errors_sent.get();
    m.icmp_errors_limited += s.icmp_errors_limited.get();
    if (i < graphs.size() && graphs[i]->conntrack) {
      const ConnTable& t = *graphs[i]->conntrack;
      const ConnTableStats& cs = t.stats();
      ConntrackMetrics c;
      c.worker = w.index();
      c.connections = t.size();
      c.capacity = t.capacity();
      c.assured = t.size(ConnClass::kAssured);
      c.embryonic = t.size(ConnClass::kEmbryonic);
      c.closing = t.size(ConnClass::kClosing);
      c.created = cs.created.get();
      c.expired = cs.expired.get();
      c.removed = cs.removed.get();
      c.cut = cs.cut.get();
      c.hits = cs.hits.get();
      c.misses = cs.misses.get();
      c.full = cs.full.get();
      for (size_t k = 0; k < kConnClassCount; ++k) c.evicted[k] = cs.evicted[k].get();
      m.conntrack.push_back(c);
    }
  }

  for (size_t v = 0; v < kDhcpVerdictCount; ++v) {
    uint64_t n = 0;
    for (const auto& g : graphs)
      if (g->dhcp != nullptr) n += g->dhcp->stats().verdicts[v].get();
    m.dhcp.emplace_back(kDhcpVerdictNames[v], n);
  }
  return m;
}

NodeMetrics collect_node_metrics(const Dataplane& dp, const ControllerStatus& controller) {
  NodeMetrics m = collect_counters(dp);
  m.have_snapshot = true;
  m.generation = dp.snapshot().generation;
  m.policy_version = dp.snapshot().policy_version;
  m.qos = qos_rows(dp);
  for (PortMetrics& p : m.ports) {
    rte_eth_link link{};
    rte_eth_stats dev{};
    if (rte_eth_link_get_nowait(p.port_id, &link) == 0 && rte_eth_stats_get(p.port_id, &dev) == 0) {
      p.have_device = true;
      p.link_up = link.link_status == RTE_ETH_LINK_UP;
      p.rx_missed = dev.imissed;
      p.rx_errors = dev.ierrors;
      p.rx_nombuf = dev.rx_nombuf;
      p.tx_errors = dev.oerrors;
    }
  }
  if (controller) {
    const nlohmann::json c = controller();
    if (c.is_object()) {
      m.controller_connected = c.value("connected", false);
      m.controller_applied_version = c.value("applied_version", uint64_t{0});
    }
  }
  return m;
}

namespace {

using prom::Label;
using prom::MetricType;
using prom::TextWriter;

// One counter or gauge per port, labelled by name and kind.
template <typename Get>
void per_port(TextWriter& w, const NodeMetrics& m, std::string_view name, std::string_view help,
              MetricType type, Get get, bool device_only = false) {
  bool any = false;
  for (const PortMetrics& p : m.ports) any |= !device_only || p.have_device;
  if (!any) return;
  w.family(name, help, type);
  for (const PortMetrics& p : m.ports) {
    if (device_only && !p.have_device) continue;
    w.sample(name, {{"port", p.name}, {"kind", p.kind}}, static_cast<uint64_t>(get(p)));
  }
}

template <typename Get>
void per_table(TextWriter& w, const NodeMetrics& m, std::string_view name, std::string_view help,
               MetricType type, Get get) {
  if (m.conntrack.empty()) return;
  w.family(name, help, type);
  for (const ConntrackMetrics& c : m.conntrack) {
    const std::string worker = std::to_string(c.worker);
    w.sample(name, {{"worker", worker}}, static_cast<uint64_t>(get(c)));
  }
}

}  // namespace

std::string render_node_metrics(const NodeMetrics& m) {
  TextWriter w;
  constexpr auto kCounter = MetricType::kCounter;
  constexpr auto kGauge = MetricType::kGauge;

  w.family("weft_node_info", "The node this weftd serves and its forwarding mode (always 1).", kGauge);
  w.sample("weft_node_info", {{"node", m.node}, {"mode", m.mode}}, 1);
  if (m.have_snapshot) {
    w.family("weft_snapshot_generation", "Generation of the tables the workers forward with.", kGauge);
    w.sample("weft_snapshot_generation", {}, m.generation);
    w.family("weft_policy_version", "Policy version of the tables in force (0: none applied).", kGauge);
    w.sample("weft_policy_version", {}, m.policy_version);
  }
  if (m.controller_connected) {
    w.family("weft_controller_connected", "1 while the node has a session with its controller.", kGauge);
    w.sample("weft_controller_connected", {}, *m.controller_connected ? 1 : 0);
  }

  per_port(w, m, "weft_port_rx_packets_total", "Packets received from the port by weftd's workers.", kCounter,
           [](const PortMetrics& p) { return p.rx_packets; });
  per_port(w, m, "weft_port_rx_bytes_total", "Bytes received from the port by weftd's workers.", kCounter,
           [](const PortMetrics& p) { return p.rx_bytes; });
  per_port(w, m, "weft_port_tx_packets_total", "Packets transmitted on the port by weftd's workers.", kCounter,
           [](const PortMetrics& p) { return p.tx_packets; });
  per_port(w, m, "weft_port_tx_bytes_total", "Bytes transmitted on the port by weftd's workers.", kCounter,
           [](const PortMetrics& p) { return p.tx_bytes; });
  per_port(w, m, "weft_port_drops_total", "Packets that arrived on the port and were dropped, any reason.",
           kCounter, [](const PortMetrics& p) { return p.drops; });
  per_port(w, m, "weft_port_up", "1 while the port's link is up.", kGauge,
           [](const PortMetrics& p) { return p.link_up ? 1 : 0; }, true);
  per_port(w, m, "weft_port_rx_missed_total",
           "Packets the device dropped because its receive ring was full (the worker fell behind).", kCounter,
           [](const PortMetrics& p) { return p.rx_missed; }, true);
  per_port(w, m, "weft_port_rx_errors_total", "Erroneous packets the device received.", kCounter,
           [](const PortMetrics& p) { return p.rx_errors; }, true);
  per_port(w, m, "weft_port_rx_nombuf_total", "Receive buffer allocation failures of the device.", kCounter,
           [](const PortMetrics& p) { return p.rx_nombuf; }, true);
  per_port(w, m, "weft_port_tx_errors_total", "Packets the device failed to transmit.", kCounter,
           [](const PortMetrics& p) { return p.tx_errors; }, true);

  if (!m.ports.empty()) {
    w.family("weft_sg_denied_total",
             "New connections the port's security groups refused: into the port (ingress) or out of it (egress).",
             kCounter);
    for (const PortMetrics& p : m.ports) {
      w.sample("weft_sg_denied_total", {{"port", p.name}, {"direction", "ingress"}}, p.sg_ingress_denied);
      w.sample("weft_sg_denied_total", {{"port", p.name}, {"direction", "egress"}}, p.sg_egress_denied);
    }
  }

  if (!m.drops.empty()) {
    w.family("weft_drops_total",
             "Packets dropped, by the pipeline stage that dropped them and the reason (non-zero series only).",
             kCounter);
    for (const DropMetrics& d : m.drops)
      w.sample("weft_drops_total", {{"stage", d.stage}, {"reason", d.reason}}, d.count);
  }

  per_table(w, m, "weft_conntrack_connections", "Connections in the worker's connection table.", kGauge,
            [](const ConntrackMetrics& c) { return c.connections; });
  per_table(w, m, "weft_conntrack_capacity", "Connections the worker's connection table can hold.", kGauge,
            [](const ConntrackMetrics& c) { return c.capacity; });
  if (!m.conntrack.empty()) {
    w.family("weft_conntrack_connections_by_class",
             "Connections in the worker's table by eviction class (closing, embryonic, assured).", kGauge);
    for (const ConntrackMetrics& c : m.conntrack) {
      const std::string worker = std::to_string(c.worker);
      w.sample("weft_conntrack_connections_by_class", {{"worker", worker}, {"class", "closing"}}, c.closing);
      w.sample("weft_conntrack_connections_by_class", {{"worker", worker}, {"class", "embryonic"}}, c.embryonic);
      w.sample("weft_conntrack_connections_by_class", {{"worker", worker}, {"class", "assured"}}, c.assured);
    }
  }
  per_table(w, m, "weft_conntrack_created_total", "Connections created.", kCounter,
            [](const ConntrackMetrics& c) { return c.created; });
  if (!m.conntrack.empty()) {
    w.family("weft_conntrack_evicted_total",
             "Connections evicted to make room for a new one, by the class of the victim.", kCounter);
    for (const ConntrackMetrics& c : m.conntrack) {
      const std::string worker = std::to_string(c.worker);
      for (size_t k = 0; k < kConnClassCount; ++k)
        w.sample("weft_conntrack_evicted_total", {{"worker", worker}, {"class", kConnClassNames[k]}},
                 c.evicted[k]);
    }
  }
  per_table(w, m, "weft_conntrack_expired_total", "Connections removed after idling past their timeout.", kCounter,
            [](const ConntrackMetrics& c) { return c.expired; });
  per_table(w, m, "weft_conntrack_cut_total", "Connections a policy change denied (tombstones made).", kCounter,
            [](const ConntrackMetrics& c) { return c.cut; });
  per_table(w, m, "weft_conntrack_full_total", "New connections refused: no entry free or evictable.", kCounter,
            [](const ConntrackMetrics& c) { return c.full; });
  per_table(w, m, "weft_conntrack_hits_total", "Packets that took their connection's cached action (flow cache hits).",
            kCounter, [](const ConntrackMetrics& c) { return c.hits; });
  per_table(w, m, "weft_conntrack_misses_total",
            "Packets looked up in the flow cache that were not a hit (walked the pipeline, or dropped).", kCounter,
            [](const ConntrackMetrics& c) { return c.misses; });

  if (!m.workers.empty()) {
    w.family("weft_worker_busy_cycles_total",
             "TSC cycles of the worker's loop iterations that received packets, rx to tx.", kCounter);
    for (const WorkerMetrics& wk : m.workers)
      w.sample("weft_worker_busy_cycles_total", {{"worker", std::to_string(wk.index)}}, wk.busy_cycles);
    if (m.tsc_hz != 0) {
      w.family("weft_worker_busy_seconds_total",
               "Seconds of the worker's loop iterations that received packets (busy cycles over the TSC rate).",
               kCounter);
      for (const WorkerMetrics& wk : m.workers)
        w.sample("weft_worker_busy_seconds_total", {{"worker", std::to_string(wk.index)}},
                 static_cast<double>(wk.busy_cycles) / static_cast<double>(m.tsc_hz));
    }
    w.family("weft_worker_polls_total", "Receive polls of the worker (each a burst from every port).", kCounter);
    for (const WorkerMetrics& wk : m.workers)
      w.sample("weft_worker_polls_total", {{"worker", std::to_string(wk.index)}}, wk.polls);
    w.family("weft_worker_idle_polls_total", "Receive polls of the worker that found no packet.", kCounter);
    for (const WorkerMetrics& wk : m.workers)
      w.sample("weft_worker_idle_polls_total", {{"worker", std::to_string(wk.index)}}, wk.idle_polls);
    w.family("weft_worker_handoff_sent_total",
             "Packets the worker handed to the worker owning their connection (several workers).", kCounter);
    for (const WorkerMetrics& wk : m.workers)
      w.sample("weft_worker_handoff_sent_total", {{"worker", std::to_string(wk.index)}}, wk.handoff_sent);
    w.family("weft_worker_handoff_received_total",
             "Packets other workers handed this one, the owner of their connection.", kCounter);
    for (const WorkerMetrics& wk : m.workers)
      w.sample("weft_worker_handoff_received_total", {{"worker", std::to_string(wk.index)}}, wk.handoff_received);
  }

  w.family("weft_icmp_errors_sent_total", "ICMP errors the router sent (time exceeded, unreachable, ...).",
           kCounter);
  w.sample("weft_icmp_errors_sent_total", {}, m.icmp_errors_sent);
  w.family("weft_icmp_errors_limited_total", "ICMP errors the node's rate limit held back.", kCounter);
  w.sample("weft_icmp_errors_limited_total", {}, m.icmp_errors_limited);
  if (!m.dhcp.empty()) {
    w.family("weft_dhcp_messages_total", "DHCP messages the node's DHCP server handled, by verdict.", kCounter);
    for (const auto& [verdict, n] : m.dhcp) w.sample("weft_dhcp_messages_total", {{"verdict", verdict}}, n);
  }
  // QoS, by vNIC, direction and class (docs/operations.md, "Reading QoS").
  struct QosSeries {
    std::string_view name, help;
    uint64_t QosRow::*value;
  };
  for (const QosSeries& s : {
           QosSeries{"weft_qos_sent_packets_total", "Packets a vNIC's QoS meters let through.",
                     &QosRow::sent_packets},
           QosSeries{"weft_qos_sent_bytes_total", "Bytes (frames as the VM sees them) QoS let through.",
                     &QosRow::sent_bytes},
           QosSeries{"weft_qos_policed_packets_total", "Packets a vNIC's QoS meters dropped (over the rate).",
                     &QosRow::policed_packets},
           QosSeries{"weft_qos_policed_bytes_total", "Bytes QoS dropped (over the rate).", &QosRow::policed_bytes},
           QosSeries{"weft_qos_queued_packets_total", "Packets put in a vNIC's QoS shaper queue.",
                     &QosRow::queued_packets},
           QosSeries{"weft_qos_queued_bytes_total", "Bytes put in a vNIC's QoS shaper queue.", &QosRow::queued_bytes},
           QosSeries{"weft_qos_queue_full_packets_total", "Packets QoS dropped because the shaper's queue was full.",
                     &QosRow::queue_full_packets},
           QosSeries{"weft_qos_queue_full_bytes_total", "Bytes QoS dropped because the shaper's queue was full.",
                     &QosRow::queue_full_bytes},
       }) {
    if (m.qos.empty()) break;
    w.family(s.name, s.help, kCounter);
    for (const QosRow& r : m.qos)
      w.sample(s.name, {{"port", r.port}, {"direction", r.direction}, {"class", r.cls}}, r.*s.value);
  }
  return w.take();
}

}  // namespace weft::dp
