#include "tests/packet/worker_pair.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dataplane/handoff/conn_owner.h"
#include "dataplane/pipeline/parse.h"
#include "tests/packet/eal_env.h"

namespace weft::test {

void WorkerPair::build(uint32_t max_connections, unsigned ring_size) {
  reset();
  std::string error;
  mesh_ = dp::HandoffMesh::create(kWorkers, ring_size, error);
  ASSERT_NE(mesh_, nullptr) << error;
  const std::array<uint16_t, 5> ports = {kUnderlayPort, kRed1Port, kRed2Port, kBlue1Port, kStrayPort};
  for (unsigned w = 0; w < kWorkers; ++w) {
    dp::GraphOptions options;
    options.conntrack.max_entries = max_connections;
    options.conntrack.tsc_hz = kSec;
    options.conntrack.memory = dp::TableMemory::kHeap;
    options.handoff = &mesh_->endpoint(w);
    graphs_[w] = dp::build_worker_graph(dp::ForwardingMode::kPolicy, kUnderlayPort, ports, options, &error);
    ASSERT_NE(graphs_[w], nullptr) << error;
    ASSERT_NE(graphs_[w]->pipeline.stage(dp::NodeId::kHandoff), nullptr);
  }
}

void WorkerPair::reset() {
  graphs_ = {};
  mesh_.reset();
}

Handled WorkerPair::arrive(unsigned w, std::span<const Bytes> frames, uint16_t in_port, const dp::Snapshot& snap,
                           uint64_t now) {
  for (auto& s : stats_) s = std::make_unique<dp::WorkerStats>();
  out_.captured.clear();
  std::vector<rte_mbuf*> pkts;
  for (const Bytes& f : frames) {
    rte_mbuf* m = to_mbuf(packet_pool(), f);
    EXPECT_NE(m, nullptr);
    dp::PktMeta* md = dp::meta(m);
    std::memset(static_cast<void*>(md), 0xa5, sizeof *md);  // as on rx: only in_port is set
    md->in_port = in_port;
    md->trace = 0;
    pkts.push_back(m);
  }
  dp::StageCtx ctx = context(w, snap, now);
  graphs_[w]->pipeline.run(ctx, graphs_[w]->entry, pkts.data(), static_cast<uint16_t>(pkts.size()), out_);
  Handled h;
  h.handed = mesh_->endpoint(w).flush(stats_[w].get());
  for (unsigned o = 0; o < kWorkers; ++o) {
    rte_mbuf* in[dp::Pipeline::kNodeCapacity];
    const uint16_t n = mesh_->endpoint(o).receive(in, dp::Pipeline::kNodeCapacity);
    if (n == 0) continue;
    dp::StageCtx octx = context(o, snap, now);
    graphs_[o]->pipeline.run(octx, dp::NodeId::kHandoff, in, n, out_);
  }
  h.outcome.sent = out_.captured;
  h.outcome.drops = drops();
  return h;
}

unsigned WorkerPair::owner_of(const dp::Snapshot& snap, const Bytes& frame, uint32_t vni, bool tunnel) {
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(frame.data(), static_cast<uint32_t>(frame.size()), md, tunnel), dp::DropReason::kNone);
  const dp::ConnOwner owners(snap, kWorkers);
  if (tunnel) return owners.of_packet(frame.data(), md.inner, md.vni);
  return owners.of_packet(frame.data(), md.outer, vni);
}

dp::StageCtx WorkerPair::context(unsigned w, const dp::Snapshot& snap, uint64_t now) {
  dp::StageCtx ctx;
  ctx.snap = &snap;
  ctx.now_tsc = now;
  ctx.stats = stats_[w].get();
  ctx.pool = packet_pool();
  return ctx;
}

std::string WorkerPair::drops() const {
  std::string s;
  for (size_t r = 1; r < dp::kDropReasonCount; ++r) {
    uint64_t n = 0;
    for (const auto& st : stats_) n += st->drops_of(static_cast<dp::DropReason>(r));
    if (n == 0) continue;
    if (!s.empty()) s += ' ';
    s += dp::kDropReasonNames[r];
    s += '=';
    s += std::to_string(n);
  }
  return s;
}

}  // namespace weft::test
