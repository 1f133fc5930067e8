#pragma once
// One worker's counters: per port, per (stage, drop reason), and the
// worker loop's own. The worker is their only writer (Counter,
// stats/counters.h); the control socket sums every worker's on the main
// lcore.
//
// Drops are counted where they happen: the Pipeline records in each
// dropped packet's metadata the node that dropped it (PktMeta::drop_node),
// so one reason seen in two stages (no_route in routing and in an ICMP
// error's return path, say) is two counters.

#include <rte_common.h>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

struct alignas(RTE_CACHE_LINE_SIZE) WorkerStats {
  PortStats ports[kMaxPorts];
  Counter drops[kNodeCount][kDropReasonCount];  // by NodeId, then DropReason
  Counter polls, idle_polls, sleeps;
  // TSC cycles of the loop iterations that received packets, rx to tx; over
  // the packets received, the dataplane's cost in cycles per packet.
  Counter busy_cycles;
  // ICMP errors the router sent, and the ones the node's rate limit held
  // back (l3/icmp_error_stage.h).
  Counter icmp_errors_sent, icmp_errors_limited;
  // Several workers (handoff/): packets this worker handed to their
  // connection's owner, and the ones the others handed it.
  Counter handoff_sent, handoff_received;
  // By port, direction and class slot (qos/qos_stage.h).
  QosCounters qos[kMaxPorts][kQosCounterDirs][kQosCounterSlots];

  void count_drop(NodeId node, DropReason reason) noexcept {
    drops[static_cast<size_t>(node)][static_cast<size_t>(reason)].inc();
  }
  // Every stage's count of `reason`.
  uint64_t drops_of(DropReason reason) const noexcept {
    uint64_t n = 0;
    for (const auto& node : drops) n += node[static_cast<size_t>(reason)].get();
    return n;
  }
};

}  // namespace weft::dp
