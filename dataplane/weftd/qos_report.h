#pragma once
// The `qos` part of the control socket's `stats` answer (weftctl node
// stats): one row per (port, direction, class) of every vNIC whose policy
// has QoS in that direction, with the policy's settings and the workers'
// counters summed (WorkerStats::qos, qos/qos_stage.h):
//
//   {"port", "policy", "direction": "egress"|"ingress", "class" ("default":
//    what no class matched), "priority", "rate_bps" (the class's cap; the
//    port's rate on the default row), "sent_packets", "sent_bytes",
//    "policed_packets", "policed_bytes"}
//
// Main lcore only (reads the current snapshot).

#include <nlohmann/json.hpp>

namespace weft::dp {

class Dataplane;

nlohmann::json qos_report(const Dataplane& dp);

}  // namespace weft::dp
