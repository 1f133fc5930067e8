#include "dataplane/l2/flood.h"

#include <rte_hash.h>

#include <algorithm>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// Where one copy goes: a local port, or a remote VTEP through the underlay.
struct Member {
  uint16_t port;
  uint16_t tunnel;
};

void aim(rte_mbuf* m, const Member& to) {
  PktMeta* md = meta(m);
  md->out_port = to.port;
  md->tunnel = to.tunnel;
}

}  // namespace

void FloodStage::flood_one(StageCtx& ctx, const Snapshot& snap, const FloodList& net,
                           rte_mbuf* m) noexcept {
  const PktMeta* md = meta(m);
  // Local ports first (all but the ingress port), then the VTEPs, unless
  // the frame came from one. The builder lists each local port once, and
  // there are at most kMaxPorts of them.
  Member members[kMaxPorts];
  uint32_t local = 0;
  for (uint16_t port : net.ports)
    if (port != md->in_port && local < kMaxPorts) members[local++] = {port, 0};
  const size_t total = local + (md->in_port == snap.underlay_port ? 0 : net.vteps.size());
  if (total == 0) {
    drop(m, DropReason::flood_no_members);
    return;
  }
  auto member = [&](size_t k) {
    return k < local ? members[k] : Member{snap.underlay_port, net.vteps[k - local]};
  };

  // Copies for all but the last member, which takes the original.
  for (size_t k = 0; k + 1 < total; ++k) {
    rte_mbuf* c = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
    if (c == nullptr) {
      if (ctx.stats != nullptr) ctx.stats->count_drop(NodeId::kFlood, DropReason::flood_copy_failed);
      continue;
    }
    *meta(c) = *md;  // rte_pktmbuf_copy leaves the private area behind
    aim(c, member(k));
    ctx.pipeline->enqueue(c, edge(FloodNext::kCopy));
  }
  aim(m, member(total - 1));
  send(m, FloodNext::kCopy);
}

void FloodStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
    const uint16_t count = std::min<uint16_t>(n - base, RTE_HASH_LOOKUP_BULK_MAX);
    rte_mbuf** burst = pkts + base;

    uint32_t vnis[RTE_HASH_LOOKUP_BULK_MAX];
    const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    for (uint16_t i = 0; i < count; ++i) {
      vnis[i] = meta(burst[i])->vni;
      key_ptrs[i] = &vnis[i];
    }
    uint64_t hits = 0;
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(snap.networks.by_vni.get(), key_ptrs, count, &hits, data);
    for (uint16_t i = 0; i < count; ++i) {
      // Every VNI that got this far is a network of the snapshot: port
      // security and decap took it from there.
      if (!(hits & (uint64_t{1} << i))) {
        drop(burst[i], DropReason::internal_error);
        continue;
      }
      flood_one(ctx, snap, snap.l2.flood[data_index(data[i])], burst[i]);
    }
  }
}

}  // namespace weft::dp
