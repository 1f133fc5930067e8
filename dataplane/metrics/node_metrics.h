#pragma once
// What weftd exports to monitoring, as plain data: collected from the
// running Dataplane, then rendered as Prometheus text (GET /metrics,
// metrics_http in main.cc) or answered to DPDK telemetry (telemetry.h).
// Collecting and rendering are apart so the rendering is tested without an
// EAL (tests/unit/metrics_test.cc).
//
//   NodeMetrics m = collect_node_metrics(dp, controller_status);  // main lcore
//   std::string text = render_node_metrics(m);                    // any thread
//
// The series (docs/operations.md, "Metrics"): every counter is summed over
// the workers unless it carries a `worker` label; ports are labelled by
// their policy name ("underlay" for the underlay) and kind, never by DPDK
// port id; drops by stage and reason are exported only once non-zero (the
// stage x reason grid is ~1500 series of which a node uses a few dozen).
//
// Threads: collect_counters() reads only the workers' single-writer
// counters and what create() fixed (names, kinds, tables' capacity), so any
// thread may call it once the workers run (DPDK's telemetry thread does);
// collect_node_metrics() also reads the current snapshot, the devices'
// statistics and the controller agent: main lcore only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/weftd/control_commands.h"
#include "dataplane/weftd/dataplane.h"
#include "dataplane/weftd/qos_report.h"

namespace weft::dp {

struct PortMetrics {
  std::string name;  // policy port name, or "underlay"
  std::string kind;  // "underlay", "af_packet", ...
  uint16_t port_id = 0;
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
  uint64_t sg_ingress_denied = 0, sg_egress_denied = 0;
  // From the device (rte_eth_stats_get; main lcore only).
  bool have_device = false;
  bool link_up = false;
  uint64_t rx_missed = 0, rx_errors = 0, rx_nombuf = 0, tx_errors = 0;
};

struct DropMetrics {
  std::string_view stage;
  std::string_view reason;
  uint64_t count = 0;
};

struct ConntrackMetrics {
  unsigned worker = 0;
  uint64_t connections = 0, capacity = 0;
  uint64_t assured = 0, embryonic = 0, closing = 0;
  uint64_t created = 0, expired = 0, removed = 0, cut = 0, hits = 0, misses = 0, full = 0;
  uint64_t evicted[kConnClassCount] = {};
};

struct WorkerMetrics {
  unsigned index = 0, lcore = 0;
  uint64_t busy_cycles = 0, polls = 0, idle_polls = 0, sleeps = 0;
  // Several workers: packets handed to their connection's owner, and taken from the others.
  uint64_t handoff_sent = 0, handoff_received = 0;
};

struct NodeMetrics {
  std::string node;
  std::string mode;  // "policy", "xconnect"
  uint64_t tsc_hz = 0;
  // Main lcore only (collect_node_metrics).
  bool have_snapshot = false;
  uint64_t generation = 0, policy_version = 0;
  std::optional<bool> controller_connected;  // controller mode only
  std::optional<uint64_t> controller_applied_version;

  std::vector<PortMetrics> ports;
  std::vector<DropMetrics> drops;  // non-zero only, by stage then reason
  std::vector<WorkerMetrics> workers;
  std::vector<ConntrackMetrics> conntrack;  // one per worker with a table
  uint64_t icmp_errors_sent = 0, icmp_errors_limited = 0;
  std::vector<std::pair<std::string_view, uint64_t>> dhcp;  // every verdict, zeros included
  std::vector<QosRow> qos;  // main lcore only: per vNIC, direction and class (qos_report.h)
};

// The counters only; any thread (see above).
NodeMetrics collect_counters(const Dataplane& dp);
// Everything; main lcore.
NodeMetrics collect_node_metrics(const Dataplane& dp, const ControllerStatus& controller = {});

// Prometheus text exposition format 0.0.4.
std::string render_node_metrics(const NodeMetrics& m);

// The names of the eviction classes, by ConnClass.
inline constexpr std::string_view kConnClassNames[kConnClassCount] = {"closing", "embryonic", "assured"};

}  // namespace weft::dp
