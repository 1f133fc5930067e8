#pragma once
// weftd's commands on DPDK's telemetry socket
// (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2), beside DPDK's own
// (/ethdev/stats, /eal/...), so `dpdk-telemetry.py -f weft-NODE` shows them:
//
//   /weft/ports           every port, column by column: "name", "kind",
//                         "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
//                         "drops", "sg_ingress_denied", "sg_egress_denied"
//                         (arrays in port order; telemetry's dict keys may
//                         not hold a '-', which port names may)
//   /weft/ports,NAME      one port's counters
//   /weft/drops           non-zero drops as "stage/reason": count
//   /weft/conntrack       the connection tables, summed over the workers
//
// The answers come from the same counters as `weftctl node stats` and
// /metrics (node_metrics.h: collect_counters). Telemetry calls back on
// DPDK's own telemetry thread, neither a worker nor the main lcore: the
// callbacks read the single-writer counters and nothing a table update
// frees (no snapshot), as the control socket does.
//
//   TelemetryCommands telemetry(dp);   // after dp.start(); main lcore
//   ...                                // destroyed before dp: later
//                                      // requests answer an error
//
// DPDK cannot unregister a command: the first TelemetryCommands registers
// them for the process's life; a TelemetryCommands publishes which
// Dataplane they read, under a lock the callbacks hold while they read.

#include "dataplane/weftd/dataplane.h"

namespace weft::dp {

class TelemetryCommands {
 public:
  explicit TelemetryCommands(const Dataplane& dp);
  ~TelemetryCommands();
  TelemetryCommands(const TelemetryCommands&) = delete;
  TelemetryCommands& operator=(const TelemetryCommands&) = delete;

  // Whether registering with DPDK worked (false: telemetry is off, e.g.
  // --no-telemetry, or another failure); weftd runs on either way.
  bool registered() const { return registered_; }

 private:
  bool registered_ = false;
};

}  // namespace weft::dp
