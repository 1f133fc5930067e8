#pragma once
// QosTable: the QoS policy of each vNIC of this node, by DPDK port id: its
// egress limit (traffic from the VM), its ingress limit (traffic to the VM)
// and its classes, which the classifier (qos_classify.h) matches on the
// inner packet once per connection and the kQos stage (qos_stage.h)
// polices with.
//
// A port's QoS "marking" of a packet is one byte, kept in PktMeta::qos and
// cached in the flow entry (FlowAction::qos) so a cache hit pays no
// classification: the low nibble for the egress direction of the packet's
// in_port, the high nibble for the ingress direction of its out_port, each
//
//   0         no QoS in that direction (no policy, or it limits nothing there)
//   1         the port's default class: traffic no class matched
//   2 + i     class i of the policy (policy order; the first match wins)
//
// so a packet with qos == 0 skips the kQos stage altogether.
//
// Built by build_qos (qos_builder.cc) on the main lcore; then read-only.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/stats/counters.h"

namespace weft::dp {

// Classes a policy may have: rte_sched's traffic classes per pipe
// (RTE_SCHED_TRAFFIC_CLASSES_PER_PIPE, 13) less the one unclassified
// traffic takes. The validator refuses more (control/model/validate.cc).
inline constexpr size_t kQosMaxClasses = 12;
// A marking's class slots: the default class, then the policy's classes.
inline constexpr size_t kQosSlots = kQosMaxClasses + 1;
static_assert(kQosSlots == kQosCounterSlots, "stats/counters.h counts every slot");

enum class QosDir : uint8_t { kEgress = 0, kIngress = 1 };
inline constexpr size_t kQosDirs = 2;
static_assert(kQosDirs == kQosCounterDirs);

enum class QosPriority : uint8_t { kNormal = 0, kHigh, kLow };

struct QosRange {
  uint16_t lo, hi;  // inclusive, host order
};

struct QosClass {
  std::string name;
  QosPriority priority = QosPriority::kNormal;
  uint64_t dscp = 0;      // bit d set: DSCP d matches; 0: any DSCP
  uint8_t protocol = 0;   // IPPROTO_*; 0: any
  std::vector<QosRange> ports;  // destination ports; empty: any
  uint64_t rate_bps = 0;  // 0: no cap of its own
};

struct QosLimit {
  uint64_t rate_bps = 0;  // 0: unlimited
  uint64_t burst_bytes = 0;
};

struct QosPolicy {
  std::string name;
  std::array<QosLimit, kQosDirs> limit{};  // by QosDir
  std::vector<QosClass> classes;           // at most kQosMaxClasses

  // Whether the policy does anything to traffic in direction `d`: a limit
  // there, or a class with a cap of its own.
  bool active(QosDir d) const {
    if (limit[static_cast<size_t>(d)].rate_bps != 0) return true;
    for (const QosClass& c : classes)
      if (c.rate_bps != 0) return true;
    return false;
  }
};

inline constexpr uint8_t kNoQosPolicy = UINT8_MAX;

struct QosTable {
  std::vector<QosPolicy> policies;  // at most kNoQosPolicy
  std::array<uint8_t, kMaxPorts> by_port = filled();  // policy index, kNoQosPolicy: none

  const QosPolicy* of(uint16_t port) const {
    if (port >= kMaxPorts || by_port[port] == kNoQosPolicy) return nullptr;
    return &policies[by_port[port]];
  }

 private:
  static std::array<uint8_t, kMaxPorts> filled() {
    std::array<uint8_t, kMaxPorts> a;
    a.fill(kNoQosPolicy);
    return a;
  }
};

// The two nibbles of a marking.
inline uint8_t qos_slot(uint8_t mark, QosDir d) {
  return d == QosDir::kEgress ? (mark & 0x0f) : (mark >> 4);
}
inline uint8_t qos_mark(uint8_t egress_slot, uint8_t ingress_slot) {
  return static_cast<uint8_t>(egress_slot | (ingress_slot << 4));
}

struct BuildContext;
void build_qos(const BuildContext& ctx, QosTable& t);

}  // namespace weft::dp
