#pragma once
// Dataplane counters: the single-writer Counter, and what is counted per
// port. A worker's whole block is WorkerStats (pipeline/worker_stats.h).
//
// Each worker is the only writer of its own counters; the control socket
// thread reads them all and sums. Counter is a relaxed atomic whose update is
// a plain load+store (no locked instruction), which is race-free because
// there is a single writer, and still lets the reader see whole values.

#include <rte_config.h>
#include <rte_common.h>

#include <atomic>
#include <cstdint>


namespace weft::dp {

inline constexpr uint16_t kMaxPorts = RTE_MAX_ETHPORTS;

class Counter {
 public:
  void add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void inc() { add(1); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  void reset() { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct PortStats {
  Counter rx_packets, rx_bytes;
  Counter tx_packets, tx_bytes;
  Counter drops;  // packets that arrived on this port and were dropped, any reason
  // New connections this port's security groups refused: into it (its
  // ingress rules) and out of it (its egress rules); acl/security_group_stage.h.
  Counter sg_ingress_denied, sg_egress_denied;
};

// What a port's QoS did, per direction (egress, ingress) and class slot
// (the default class, then the policy's classes: qos/qos_table.h).
inline constexpr size_t kQosCounterDirs = 2;
inline constexpr size_t kQosCounterSlots = 13;
struct QosCounters {
  Counter sent_packets, sent_bytes;
  Counter policed_packets, policed_bytes;  // dropped by a meter (qos_policed)
  // Shaped limits (qos/qos_shaper.h): put in the shaper's queue (sent
  // counts them when they leave it), and dropped because it was full.
  Counter queued_packets, queued_bytes;
  Counter queue_full_packets, queue_full_bytes;
};


}  // namespace weft::dp
