#pragma once
// What each vNIC's QoS did, for the control socket's `stats` answer
// (weftctl node stats; its `qos` list) and Prometheus (node_metrics.h): one
// row per (port, direction, class) of every vNIC whose policy has QoS in
// that direction, with the policy's settings and the workers' counters
// summed (WorkerStats::qos, qos/qos_stage.h). JSON fields:
//
//   {"port", "policy", "direction": "egress"|"ingress", "class" ("default":
//    what no class matched), "priority", "rate_bps" (the class's cap; the
//    port's rate on the default row), "sent_packets", "sent_bytes",
//    "policed_packets", "policed_bytes", "queued_packets", "queued_bytes"
//    (into the shaper's queue; sent counts them again when they leave),
//    "queue_full_packets", "queue_full_bytes" (dropped: queue full)}
//
// Main lcore only (reads the current snapshot).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace weft::dp {

class Dataplane;

struct QosRow {
  std::string port, policy, direction, cls, priority;
  uint64_t rate_bps = 0;
  uint64_t sent_packets = 0, sent_bytes = 0, policed_packets = 0, policed_bytes = 0;
  uint64_t queued_packets = 0, queued_bytes = 0, queue_full_packets = 0, queue_full_bytes = 0;
};

std::vector<QosRow> qos_rows(const Dataplane& dp);
nlohmann::json qos_report(const Dataplane& dp);

}  // namespace weft::dp
