#pragma once
// ProbeChannel: how the health checker on the main lcore (health_prober.h,
// driven by weftd's LbHealthMonitor) and the workers exchange probe
// packets, without a lock on either side:
//
//   outbox  main lcore -> any worker   ready-made probe SYNs (mbufs whose
//           (rte_ring of mbufs)        PktMeta::out_port names the vNIC);
//                                      a worker drains it at the top of
//                                      its loop and transmits them on its
//                                      own tx queue (Worker::loop)
//   inbox   workers -> main lcore      what kLbProbeReply read from each
//           (rte_ring of ProbeReply)   segment to a probe address; the
//                                      segment itself never goes further
//
// Full rings lose probes and replies, counted (a lost probe is a failed
// one, as on a lossy wire). Created on the main lcore after rte_eal_init;
// the rings are multi-producer / multi-consumer.

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/lb/health_prober.h"

namespace weft::dp {

class ProbeChannel {
 public:
  static constexpr unsigned kRingSize = 1024;

  // Null, with `error`, when DPDK cannot make the rings.
  static std::unique_ptr<ProbeChannel> create(std::string& error);
  ~ProbeChannel();
  ProbeChannel(const ProbeChannel&) = delete;
  ProbeChannel& operator=(const ProbeChannel&) = delete;

  // Main lcore: queues `m` for transmission; false (and `m` freed) when full.
  bool send(rte_mbuf* m) noexcept;
  // Workers: up to `n` probes to transmit.
  unsigned take_outgoing(rte_mbuf** pkts, unsigned n) noexcept {
    return rte_ring_dequeue_burst(outbox_, reinterpret_cast<void**>(pkts), n, nullptr);
  }
  // Workers: hands a reply over; false when the inbox is full.
  bool deliver(const ProbeReply& r) noexcept;
  // Main lcore: up to `n` replies.
  unsigned take_replies(ProbeReply* out, unsigned n) noexcept;

  uint64_t lost_probes() const { return lost_probes_.load(std::memory_order_relaxed); }
  uint64_t lost_replies() const { return lost_replies_.load(std::memory_order_relaxed); }

 private:
  ProbeChannel() = default;

  rte_ring* outbox_ = nullptr;
  rte_ring* inbox_ = nullptr;
  std::atomic<uint64_t> lost_probes_{0};
  std::atomic<uint64_t> lost_replies_{0};
};

}  // namespace weft::dp
