#include "dataplane/pipeline/pipeline.h"

#include <bit>
#include <cstring>

#include "dataplane/pipeline/trace.h"
#include "dataplane/pipeline/worker_stats.h"

namespace weft::dp {

namespace {
constexpr size_t kTxNode = static_cast<size_t>(NodeId::kTx);
constexpr size_t kDropNode = static_cast<size_t>(NodeId::kDrop);
}  // namespace

void Pipeline::enqueue(rte_mbuf* m, NodeId next) noexcept {
  size_t id = static_cast<size_t>(next);
  // A packet may only move forward; anything else is a stage bug, and
  // dropping it keeps the graph walk finite.
  if (id <= current_ || id >= kNodeCount) {
    drop(m, DropReason::internal_error);
    id = kDropNode;
  }
  if (id == kDropNode) {
    to_drop(m, current_);
    return;
  }
  Input& in = inputs_[id];
  if (in.n == kNodeCapacity) {
    drop(m, DropReason::pipeline_overflow);
    to_drop(m, id);
    return;
  }
  meta(m)->next = static_cast<uint8_t>(id);
  in.pkts[in.n++] = m;
  pending_ |= node_bit(id);
}

void Pipeline::to_drop(rte_mbuf* m, size_t node) noexcept {
  meta(m)->drop_node = static_cast<uint8_t>(node);
  Input& dropped = inputs_[kDropNode];
  if (dropped.n == kNodeCapacity) {  // even the drop node is full: free right here
    rte_pktmbuf_free(m);
    return;
  }
  dropped.pkts[dropped.n++] = m;
}

// The runner's hottest loop: after every stage, every packet moves to the
// input of the node it names. A stage almost always sends its whole burst
// to one node (parse to the gate, flow lookup hits to encap, ...): that is
// one pass reading `next` and one memcpy, instead of a load, store and
// counter update per packet whose chain through `to.n` the CPU cannot
// overlap. Mixed bursts take the per-packet path; only a full input or a
// backward move (a stage bug) takes enqueue's slow path.
void Pipeline::scatter(size_t id, rte_mbuf* const* pkts, uint16_t count) noexcept {
  const size_t first = meta(pkts[0])->next;
  uint16_t same = 1;
  while (same < count && meta(pkts[same])->next == first) ++same;
  if (same == count && first > id && first < kNodeCount &&
      inputs_[first].n + count <= kNodeCapacity) [[likely]] {
    if (first == kDropNode)
      for (uint16_t i = 0; i < count; ++i) meta(pkts[i])->drop_node = static_cast<uint8_t>(id);
    Input& to = inputs_[first];
    std::memcpy(to.pkts + to.n, pkts, count * sizeof(rte_mbuf*));
    to.n = static_cast<uint16_t>(to.n + count);
    pending_ |= node_bit(first);
    return;
  }
  for (uint16_t i = 0; i < count; ++i) {
    rte_mbuf* m = pkts[i];
    const size_t next = meta(m)->next;
    if (next > id && next < kNodeCount && inputs_[next].n < kNodeCapacity) [[likely]] {
      if (next == kDropNode) meta(m)->drop_node = static_cast<uint8_t>(id);
      Input& to = inputs_[next];
      to.pkts[to.n++] = m;
      pending_ |= node_bit(next);
      continue;
    }
    if (next == kHandedOff) continue;  // another worker's now
    enqueue(m, static_cast<NodeId>(next));
  }
}

void Pipeline::run(StageCtx& ctx, NodeId entry, rte_mbuf** pkts, uint16_t n,
                   PacketOutput& out) noexcept {
  ctx.pipeline = this;
  current_ = static_cast<size_t>(entry);
  for (uint16_t i = 0; i < n; ++i) {
    Input& in = inputs_[current_];
    if (in.n == kNodeCapacity) {
      drop(pkts[i], DropReason::pipeline_overflow);
      to_drop(pkts[i], current_);
      continue;
    }
    meta(pkts[i])->next = static_cast<uint8_t>(current_);
    in.pkts[in.n++] = pkts[i];
  }
  pending_ |= node_bit(current_);

  // Only the nodes that were given packets are visited, lowest id first:
  // a burst meets 5-8 of the graph's 29 stages, and each input's count
  // sits on a cache line of its own that the packets' data has usually
  // pushed out of L1 by the next burst. Packets only move forward, so a
  // node is never given packets after its visit.
  constexpr uint64_t kStageNodes = node_bit(kTxNode) - 1;
  while (const uint64_t rest = pending_ & kStageNodes) {
    const size_t id = static_cast<size_t>(std::countr_zero(rest));
    pending_ &= ~node_bit(id);
    Input& in = inputs_[id];
    current_ = id;
    uint16_t count = in.n;
    in.n = 0;
    Stage* stage = stages_[id];
    if (stage == nullptr) {  // the graph named a node it built no stage for
      for (uint16_t i = 0; i < count; ++i) drop(in.pkts[i], DropReason::internal_error);
    } else {
      stage->process(ctx, in.pkts, count);
    }
    if (ctx.tracer != nullptr) [[unlikely]]
      ctx.tracer->stage_done(static_cast<NodeId>(id), in.pkts, count);
    scatter(id, in.pkts, count);
  }
  pending_ = 0;  // kTx and kDrop are emptied below whatever their bits say
  current_ = kTxNode - 1;
  transmit_all(ctx, out);
  if (shaper_ != nullptr) shaper_->clear_marked();
  drop_all(ctx);
}

void Pipeline::transmit_all(StageCtx& ctx, PacketOutput& out) noexcept {
  Input& tx = inputs_[kTxNode];
  if (tx.n == 0) return;
  const uint16_t n = tx.n;
  tx.n = 0;

  // Most bursts leave on one port (a burst comes from one rx port and its
  // flows mostly share a destination): then the burst goes out as it is,
  // and the counting sort below, with its passes over every port, is skipped.
  const uint16_t first = meta(tx.pkts[0])->out_port;
  uint16_t same = 0;
  uint64_t bytes = 0;
  for (; same < n && meta(tx.pkts[same])->out_port == first; ++same)
    bytes += rte_pktmbuf_pkt_len(tx.pkts[same]);
  if (same == n && first < kMaxPorts) [[likely]] {
    transmit_port(ctx, out, first, tx.pkts, n, bytes);
    return;
  }

  // Group by output port with a counting sort, so each port gets one
  // transmit call.
  uint16_t count[kMaxPorts] = {};
  for (uint16_t i = 0; i < n; ++i) {
    uint16_t port = meta(tx.pkts[i])->out_port;
    if (port >= kMaxPorts) {  // no stage sets a port it was not given
      drop(tx.pkts[i], DropReason::internal_error);
      continue;
    }
    ++count[port];
  }
  uint16_t start[kMaxPorts];
  uint16_t pos = 0;
  for (uint16_t p = 0; p < kMaxPorts; ++p) {
    start[p] = pos;
    pos += count[p];
  }
  rte_mbuf* sorted[kNodeCapacity];
  uint16_t fill[kMaxPorts];
  for (uint16_t p = 0; p < kMaxPorts; ++p) fill[p] = start[p];
  Input& dropped = inputs_[kDropNode];
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = tx.pkts[i];
    if (meta(m)->next == static_cast<uint8_t>(NodeId::kDrop)) {
      meta(m)->drop_node = static_cast<uint8_t>(kTxNode);
      if (dropped.n < kNodeCapacity) dropped.pkts[dropped.n++] = m; else rte_pktmbuf_free(m);
      continue;
    }
    sorted[fill[meta(m)->out_port]++] = m;
  }

  for (uint16_t p = 0; p < kMaxPorts; ++p) {
    if (count[p] == 0) continue;
    rte_mbuf** batch = sorted + start[p];
    uint64_t port_bytes = 0;
    for (uint16_t i = 0; i < count[p]; ++i) port_bytes += rte_pktmbuf_pkt_len(batch[i]);
    transmit_port(ctx, out, p, batch, count[p], port_bytes);
  }
}

void Pipeline::transmit_port(StageCtx& ctx, PacketOutput& out, uint16_t port, rte_mbuf** batch,
                             uint16_t n, uint64_t bytes) noexcept {
  if (shaper_ != nullptr && shaper_->marked()) [[unlikely]] {
    n = to_shaper(ctx, port, batch, n, bytes);
    if (n == 0) return;
  }
  send_port(ctx, out, port, batch, n, bytes);
}

uint16_t Pipeline::to_shaper(StageCtx& ctx, uint16_t port, rte_mbuf** batch, uint16_t n,
                             uint64_t& bytes) noexcept {
  rte_mbuf* shaped[kNodeCapacity];
  uint16_t kept = 0, marked = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = batch[i];
    if (meta(m)->qos_shaped != 0) {
      shaped[marked++] = m;
      bytes -= rte_pktmbuf_pkt_len(m);
    } else {
      batch[kept++] = m;
    }
  }
  if (marked == 0) return kept;
  rte_mbuf* refused[kNodeCapacity];
  const uint16_t r = shaper_->enqueue(ctx, port, shaped, marked, refused);
  Input& dropped = inputs_[kDropNode];
  for (uint16_t i = 0; i < r; ++i) {
    drop(refused[i], DropReason::qos_queue_full);
    meta(refused[i])->drop_node = static_cast<uint8_t>(kTxNode);
    if (dropped.n < kNodeCapacity) dropped.pkts[dropped.n++] = refused[i]; else rte_pktmbuf_free(refused[i]);
  }
  return kept;
}

uint32_t Pipeline::service(StageCtx& ctx, PacketOutput& out) noexcept {
  if (shaper_ == nullptr || !shaper_->holds_packets()) return 0;
  // rte_sched releases a burst in steps (its grinders prefetch pipe, queue
  // and packet over successive calls), so one call per poll can return
  // fewer than a poll received: ask again while it gives, up to a bound
  // that keeps one iteration short.
  constexpr uint16_t kBurst = 32;
  constexpr uint32_t kMaxPerPort = 8 * kBurst;
  uint32_t released = 0;
  for (const uint16_t port : shaper_->ports()) {
    const uint32_t before = released;
    while (released - before < kMaxPerPort) {
      rte_mbuf* pkts[kBurst];
      const uint16_t n = shaper_->dequeue(ctx, port, pkts, kBurst);
      if (n == 0) break;
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
      send_port(ctx, out, port, pkts, n, bytes);
      released += n;
      if (n < kBurst) break;  // it gave what it had: an empty call costs a grinder scan
    }
  }
  drop_all(ctx);  // what the port would not take (tx_full)
  return released;
}

void Pipeline::send_port(StageCtx& ctx, PacketOutput& out, uint16_t port, rte_mbuf** batch,
                         uint16_t n, uint64_t bytes) noexcept {
  const uint16_t sent = out.transmit(port, batch, n);
  if (ctx.stats != nullptr) {
    // Bytes are counted before transmit (the PMD owns sent mbufs after);
    // subtract what did not go out.
    uint64_t unsent_bytes = 0;
    for (uint16_t i = sent; i < n; ++i) unsent_bytes += rte_pktmbuf_pkt_len(batch[i]);
    ctx.stats->ports[port].tx_packets.add(sent);
    ctx.stats->ports[port].tx_bytes.add(bytes - unsent_bytes);
  }
  Input& dropped = inputs_[kDropNode];
  for (uint16_t i = sent; i < n; ++i) {
    drop(batch[i], DropReason::tx_full);
    meta(batch[i])->drop_node = static_cast<uint8_t>(kTxNode);
    if (dropped.n < kNodeCapacity) dropped.pkts[dropped.n++] = batch[i]; else rte_pktmbuf_free(batch[i]);
  }
}

void Pipeline::drop_all(StageCtx& ctx) noexcept {
  Input& in = inputs_[kDropNode];
  if (in.n == 0) return;
  if (ctx.stats != nullptr) {
    for (uint16_t i = 0; i < in.n; ++i) {
      const PktMeta* md = meta(in.pkts[i]);
      // No reason: a packet sent along an edge nobody wired.
      const auto reason = md->drop_reason != 0 && md->drop_reason < kDropReasonCount
                              ? static_cast<DropReason>(md->drop_reason)
                              : DropReason::internal_error;
      const auto node = md->drop_node < kNodeCount ? static_cast<NodeId>(md->drop_node) : NodeId::kDrop;
      ctx.stats->count_drop(node, reason);
      if (md->in_port < kMaxPorts) ctx.stats->ports[md->in_port].drops.inc();
    }
  }
  rte_pktmbuf_free_bulk(in.pkts, in.n);
  in.n = 0;
}

}  // namespace weft::dp
