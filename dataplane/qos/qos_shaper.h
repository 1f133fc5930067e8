#pragma once
// QosShaper: the QoS limits that are shaped, not policed (docs/policy.md):
// DPDK's hierarchical scheduler (rte_sched) on the tx side of each port a
// shaped packet leaves by, one per port and worker.
//
// Layout of one port's scheduler: one subport at the port's line rate
// (Config::port_rate_bps), and one pipe per (vNIC, direction) whose limit
// is shaped there (pipe_id() below says which):
//
//   a vNIC's own tx     its ingress limit (traffic to the VM), and the
//                       egress limit of a local sender whose packet is not
//                       shaped by the receiver's ingress limit
//   the underlay's tx   the egress limits (traffic from the VMs) of the
//   the external tx     vNICs whose packets leave there
//
// A pipe's token bucket is the limit's rate and burst. Its traffic classes
// follow the policy's classes (qos_table.h, slot = marking nibble):
//
//   priority high       traffic classes 0, 1, ... in policy order: strict
//                       priority, served before anything else in the pipe
//   a class with rate   the next traffic classes, each capped at its rate
//                       (rte_sched's per-class credits per tc_period)
//   everything else     the best-effort class (12): the default class and
//                       normal classes in its queue 0 (WRR weight 4),
//                       low-priority ones in queue 1 (weight 1)
//
// Use (worker lcore only; a scheduler is enqueued and dequeued by one
// thread, as rte_sched requires): the kQos stage calls configure() on a new
// snapshot and mark() for each packet it shapes; the Pipeline (its
// PacketShaper interface, pipeline.h) enqueues the kTx packets the stage
// marked, and the worker's Pipeline::service() dequeues what the schedulers
// release every poll iteration and transmits it.
//
// Time: rte_sched (DPDK 22.11) takes no time argument; it reads the TSC
// itself (rte_sched_port_dequeue -> rte_sched_port_time_resync ->
// rte_get_tsc_cycles). What the shaper decides without time (which queue,
// strict order, queue full, a class's credit per tc_period) is tested
// deterministically; rates over time are tested in e2e (tests/e2e/qos.sh).
//
// Policy changes: configure() gives each pipe whose settings changed a new
// profile (rte_sched_subport_pipe_profile_add, rte_sched_pipe_config) on
// the running scheduler: the queues and their packets stay, so queued
// packets of every class survive (a removed class's packets drain with the
// pipe's new settings). A scheduler has room for kMaxProfiles distinct
// profiles; past that, a changed pipe keeps its old settings and the change
// is counted (profile_exhausted()).
//
// Queue full: the shaper keeps each queue's length, and refuses a packet
// whose queue is full before rte_sched sees it, so the Pipeline drops and
// counts it (qos_queue_full) with its port and class.

#include <rte_mbuf.h>
#include <rte_sched.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/qos/qos_table.h"

namespace weft::dp {

class QosShaper final : public PacketShaper {
 public:
  struct Config {
    uint32_t share = 1;              // workers the node's rates are split over
    uint16_t queue_packets = 256;    // per traffic-class queue; a power of 2
    // A class's credit period. Credit left at its end is lost, and so is
    // what a worker stalled for (a busy machine): long enough that neither
    // costs much, short enough that a capped class is not bursty.
    uint32_t tc_period_ms = 100;
    uint64_t port_rate_bps = 40'000'000'000;  // a port's line rate: the most any pipe gets
    uint32_t mtu = 9216;
  };
  static constexpr uint32_t kMaxProfiles = 256;
  static constexpr uint32_t kPipes = 2 * kMaxPorts;  // a power of 2 (RTE_MAX_ETHPORTS is)
  static_assert((kPipes & (kPipes - 1)) == 0);

  explicit QosShaper(Config config) noexcept;
  ~QosShaper() override;
  QosShaper(const QosShaper&) = delete;
  QosShaper& operator=(const QosShaper&) = delete;

  // The pipes' settings from a new snapshot's policies.
  void configure(const QosTable& t) noexcept;

  // Marks `m` for the pipe of `vnic`'s limit in direction `d`, class slot
  // `slot` (qos_table.h), and records the direction in its metadata.
  void mark(rte_mbuf* m, uint16_t vnic, QosDir d, uint8_t slot) noexcept { stamp(m, mark_of(vnic, d, slot)); }
  // The same in two steps, for a run of packets of one pipe and class:
  // what to mark them with, then each packet.
  struct Mark {
    uint32_t queue = 0;  // rte_sched's queue id
    uint8_t tc = 0;      // its traffic class
    uint8_t shaped = 0;  // PktMeta::qos_shaped; 0: no mark
  };
  Mark mark_of(uint16_t vnic, QosDir d, uint8_t slot) const noexcept;
  void stamp(rte_mbuf* m, const Mark& mark) noexcept {
    rte_mbuf_sched_set(m, mark.queue, mark.tc, RTE_COLOR_GREEN);
    meta(m)->qos_shaped = mark.shaped;
    ++marked_;
  }

  // PacketShaper (pipeline.h).
  bool holds_packets() const noexcept override { return backlog_ != 0; }
  uint16_t enqueue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n, rte_mbuf** refused) noexcept override;
  std::span<const uint16_t> ports() const noexcept override { return active_ports_; }
  uint16_t dequeue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override;

  // The rte_sched pipe of `vnic`'s direction `d`. rte_sched's 8 grinders
  // each take a group of 4 pipes (one 64-bit slab of its queue bitmap, 4
  // pipes x 16 queues) and work its pipes one after the other; a grinder
  // without a group scans the bitmap for one on every step. So the pipes of consecutive vNICs go to different groups: 8 busy
  // vNICs keep all 8 grinders working (pipe 2 * vNIC + direction left the
  // pipes of two vNICs in each group, and half the grinders scanning).
  static constexpr uint32_t kPipeGroups = kPipes / 4;
  static uint32_t pipe_id(uint16_t vnic, QosDir d) {
    const uint32_t i = vnic + kMaxPorts * static_cast<uint32_t>(d);  // < kPipes
    return (i % kPipeGroups) * 4 + i / kPipeGroups;
  }

  // For tests and counters.
  uint32_t backlog() const noexcept { return backlog_; }
  uint64_t profile_exhausted() const noexcept { return profile_exhausted_; }
  // The rte_sched pipe parameters of `vnic`'s direction `d` (tests).
  const rte_sched_pipe_params* pipe_params(uint16_t vnic, QosDir d) const noexcept;
  // The (traffic class, best-effort queue) of a slot of that pipe (tests).
  std::pair<uint8_t, uint8_t> slot_queue(uint16_t vnic, QosDir d, uint8_t slot) const noexcept;

 private:
  struct Pipe {
    bool on = false;
    rte_sched_pipe_params params{};
    std::array<uint8_t, kQosSlots> queue{};  // slot -> queue within the pipe (0-15)
  };
  struct Port {
    rte_sched_port* sched = nullptr;
    std::vector<rte_sched_pipe_params> profiles;  // in rte_sched's profile order
    std::array<int32_t, kPipes> pipe_profile{};   // -1: pipe not configured
    std::vector<uint16_t> qlen;                   // by queue id
    uint32_t backlog = 0;
  };

  Port* port_for(uint16_t port) noexcept;
  bool create(uint16_t port_id, Port& p) noexcept;
  void apply(Port& p, uint32_t pipe) noexcept;

  Config config_;
  uint64_t port_rate_ = 0;  // bytes a second, chosen so rte_sched's cycles per byte is exact
  std::array<Pipe, kPipes> pipes_{};
  std::array<std::unique_ptr<Port>, kMaxPorts> ports_{};
  std::vector<uint16_t> active_ports_;  // ports with a scheduler, for dequeue
  uint32_t backlog_ = 0;
  uint64_t profile_exhausted_ = 0;
};

}  // namespace weft::dp
