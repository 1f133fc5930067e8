#pragma once
// The burst graph runner: moves a burst through the stages in NodeId order.
//
// Each node has an input array. `run` puts the burst on the entry node, then
// visits nodes in increasing id: a node with packets gets one `process` call
// over all of them (so the stage sees a batch, and can prefetch and bulk
// look up), and its packets are scattered to the inputs of the nodes they
// name. At the end, kTx packets are grouped by output port and handed to the
// PacketOutput, and kDrop packets are counted per reason and freed.
//
// One Pipeline per worker lcore; not thread-safe.

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <span>

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// Where kTx packets go. The worker's implementation calls rte_eth_tx_burst;
// packet tests capture instead.
class PacketOutput {
 public:
  virtual ~PacketOutput() = default;
  // Transmits up to n packets on `port`; returns how many it took. The
  // Pipeline frees and counts (tx_full) the ones not taken.
  virtual uint16_t transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept = 0;
};

// A scheduler some packets wait in before they leave (qos/qos_shaper.h).
// The Pipeline hands it the kTx packets a stage marked for it
// (PktMeta::qos_shaped), and Pipeline::service transmits what it releases.
// Same thread as the Pipeline.
class PacketShaper {
 public:
  virtual ~PacketShaper() = default;
  virtual bool holds_packets() const noexcept = 0;
  // Queues `n` marked packets leaving by `port`; the ones it cannot take
  // (queue full) go to `refused`, their count returned.
  virtual uint16_t enqueue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                           rte_mbuf** refused) noexcept = 0;
  // The ports it has a scheduler for, and what `port`'s releases now.
  virtual std::span<const uint16_t> ports() const noexcept = 0;
  virtual uint16_t dequeue(StageCtx& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept = 0;

  // Whether a packet may have been marked since the Pipeline's last run:
  // if not, its transmit does not look for marked packets.
  bool marked() const noexcept { return marked_ != 0; }
  void clear_marked() noexcept { marked_ = 0; }

 protected:
  uint32_t marked_ = 0;  // packets marked (PktMeta::qos_shaped) since clear_marked()
};

class Pipeline {
 public:
  static constexpr uint16_t kNodeCapacity = 256;

  // Stages are borrowed; they must outlive the Pipeline.
  void set_stage(NodeId id, Stage* stage) { stages_[static_cast<size_t>(id)] = stage; }
  Stage* stage(NodeId id) const { return stages_[static_cast<size_t>(id)]; }

  // Runs one burst that enters at `entry`. On return every packet has been
  // transmitted through `out`, or freed and counted in ctx.stats.
  void run(StageCtx& ctx, NodeId entry, rte_mbuf** pkts, uint16_t n, PacketOutput& out) noexcept;

  // For packets a stage creates (ARP replies, flood replicas) during `run`:
  // queues `m` on node `next`, which must come after the calling stage.
  void enqueue(rte_mbuf* m, NodeId next) noexcept;

  // The shaper marked kTx packets queue in (borrowed; null: none, marked
  // packets leave at once).
  void set_shaper(PacketShaper* shaper) noexcept { shaper_ = shaper; }
  // Transmits what the shaper releases now, once per worker poll; returns
  // how many packets left.
  uint32_t service(StageCtx& ctx, PacketOutput& out) noexcept;
  // Whether the shaper still holds packets (the worker must not sleep).
  bool holds_packets() const noexcept { return shaper_ != nullptr && shaper_->holds_packets(); }

 private:
  struct Input {
    uint16_t n = 0;
    rte_mbuf* pkts[kNodeCapacity];
  };

  // Moves the packets node `id` just processed to the inputs they name.
  void scatter(size_t id, rte_mbuf* const* pkts, uint16_t count) noexcept;
  // Queues `m`, already marked dropped, on kDrop, counted against `node`.
  void to_drop(rte_mbuf* m, size_t node) noexcept;
  void transmit_all(StageCtx& ctx, PacketOutput& out) noexcept;
  // Hands `batch`, all for `port`, to `out`; counts what went out and
  // queues the rest on kDrop as tx_full. `bytes`: the batch's total length.
  void transmit_port(StageCtx& ctx, PacketOutput& out, uint16_t port, rte_mbuf** batch, uint16_t n,
                     uint64_t bytes) noexcept;
  void drop_all(StageCtx& ctx) noexcept;
  // transmit_port's shaped half: the batch's marked packets go to the
  // shaper, the rest stay in `batch`; returns how many stay.
  uint16_t to_shaper(StageCtx& ctx, uint16_t port, rte_mbuf** batch, uint16_t n, uint64_t& bytes) noexcept;
  void send_port(StageCtx& ctx, PacketOutput& out, uint16_t port, rte_mbuf** batch, uint16_t n,
                 uint64_t bytes) noexcept;

  static_assert(kNodeCount <= 64, "pending_ has a bit per node");
  static constexpr uint64_t node_bit(size_t id) noexcept { return uint64_t{1} << id; }

  std::array<Stage*, kNodeCount> stages_{};
  std::array<Input, kNodeCount> inputs_{};
  size_t current_ = 0;  // node being processed, to check enqueue order
  uint64_t pending_ = 0;  // a bit per node whose input holds packets (during run)
  PacketShaper* shaper_ = nullptr;
};

}  // namespace weft::dp
