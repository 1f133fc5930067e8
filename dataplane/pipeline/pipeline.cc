#include "dataplane/pipeline/pipeline.h"

#include "dataplane/stats/counters.h"

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
    drop(m, DropReason::pipeline_overflow);
    id = kDropNode;
  }
  Input& in = inputs_[id];
  if (in.n == kNodeCapacity) {
    if (id == kDropNode) {  // even the drop node is full: free right here
      rte_pktmbuf_free(m);
      return;
    }
    drop(m, DropReason::pipeline_overflow);
    enqueue(m, NodeId::kDrop);
    return;
  }
  meta(m)->next = static_cast<uint8_t>(id);
  in.pkts[in.n++] = m;
}

void Pipeline::run(StageCtx& ctx, NodeId entry, rte_mbuf** pkts, uint16_t n,
                   PacketOutput& out) noexcept {
  ctx.pipeline = this;
  current_ = static_cast<size_t>(entry);
  for (uint16_t i = 0; i < n; ++i) {
    Input& in = inputs_[current_];
    if (in.n == kNodeCapacity) {
      drop(pkts[i], DropReason::pipeline_overflow);
      inputs_[kDropNode].pkts[inputs_[kDropNode].n++] = pkts[i];
      continue;
    }
    meta(pkts[i])->next = static_cast<uint8_t>(current_);
    in.pkts[in.n++] = pkts[i];
  }

  for (size_t id = static_cast<size_t>(entry); id < kTxNode; ++id) {
    Input& in = inputs_[id];
    if (in.n == 0) continue;
    current_ = id;
    uint16_t count = in.n;
    in.n = 0;
    Stage* stage = stages_[id];
    if (stage == nullptr) {
      for (uint16_t i = 0; i < count; ++i) drop(in.pkts[i], DropReason::no_route);
    } else {
      stage->process(ctx, in.pkts, count);
    }
    // The scatter is per packet and per stage, the runner's hottest loop:
    // a forward move into an input with room is two stores, inline; only
    // the rest (a full input, a stage bug) takes enqueue's slow path.
    for (uint16_t i = 0; i < count; ++i) {
      rte_mbuf* m = in.pkts[i];
      const size_t next = meta(m)->next;
      if (next > id && next < kNodeCount && inputs_[next].n < kNodeCapacity) [[likely]] {
        Input& to = inputs_[next];
        to.pkts[to.n++] = m;
        continue;
      }
      enqueue(m, static_cast<NodeId>(next));
    }
  }
  current_ = kTxNode - 1;
  transmit_all(ctx, out);
  drop_all(ctx);
}

void Pipeline::transmit_all(StageCtx& ctx, PacketOutput& out) noexcept {
  Input& tx = inputs_[kTxNode];
  if (tx.n == 0) return;
  const uint16_t n = tx.n;
  tx.n = 0;

  // Group by output port with a counting sort: usually one or two ports per
  // burst, so each gets one transmit call.
  uint16_t count[kMaxPorts] = {};
  for (uint16_t i = 0; i < n; ++i) {
    uint16_t port = meta(tx.pkts[i])->out_port;
    if (port >= kMaxPorts) {
      drop(tx.pkts[i], DropReason::no_route);
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
      if (dropped.n < kNodeCapacity) dropped.pkts[dropped.n++] = m; else rte_pktmbuf_free(m);
      continue;
    }
    sorted[fill[meta(m)->out_port]++] = m;
  }

  for (uint16_t p = 0; p < kMaxPorts; ++p) {
    if (count[p] == 0) continue;
    rte_mbuf** batch = sorted + start[p];
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < count[p]; ++i) bytes += rte_pktmbuf_pkt_len(batch[i]);
    uint16_t sent = out.transmit(p, batch, count[p]);
    if (ctx.stats != nullptr) {
      // Bytes are counted before transmit (the PMD owns sent mbufs after);
      // subtract what did not go out.
      uint64_t unsent_bytes = 0;
      for (uint16_t i = sent; i < count[p]; ++i) unsent_bytes += rte_pktmbuf_pkt_len(batch[i]);
      ctx.stats->ports[p].tx_packets.add(sent);
      ctx.stats->ports[p].tx_bytes.add(bytes - unsent_bytes);
    }
    for (uint16_t i = sent; i < count[p]; ++i) {
      drop(batch[i], DropReason::tx_full);
      if (dropped.n < kNodeCapacity) dropped.pkts[dropped.n++] = batch[i]; else rte_pktmbuf_free(batch[i]);
    }
  }
}

void Pipeline::drop_all(StageCtx& ctx) noexcept {
  Input& in = inputs_[kDropNode];
  if (in.n == 0) return;
  if (ctx.stats != nullptr) {
    for (uint16_t i = 0; i < in.n; ++i) {
      const PktMeta* md = meta(in.pkts[i]);
      uint16_t reason = md->drop_reason < kDropReasonCount ? md->drop_reason : 0;
      ctx.stats->drops[reason].inc();
      if (md->in_port < kMaxPorts) ctx.stats->ports[md->in_port].drops.inc();
    }
  }
  rte_pktmbuf_free_bulk(in.pkts, in.n);
  in.n = 0;
}

}  // namespace weft::dp
