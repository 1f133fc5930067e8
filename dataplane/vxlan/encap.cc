#include "dataplane/vxlan/encap.h"

#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/parse.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/underlay/neighbor_probe.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {
namespace {

// The outer headers go into the headroom, a cache line nothing has touched
// since the mbuf was last freed: ask for it this many frames ahead.
constexpr uint16_t kPrefetchAhead = 4;

void prefetch_headroom(const rte_mbuf* m) {
  rte_prefetch0_write(rte_pktmbuf_mtod(m, const uint8_t*) - kVxlanOuterLen);
}

// The layers of the packet after encap: the outer headers written here,
// the inner frame where the frame was, kVxlanOuterLen further on.
void describe_encapsulated(PktMeta* md) {
  FrameLayers inner = md->outer;
  inner.l2 = static_cast<uint16_t>(inner.l2 + kVxlanOuterLen);
  inner.l3 = static_cast<uint16_t>(inner.l3 + kVxlanOuterLen);
  if (inner.l4 != 0) inner.l4 = static_cast<uint16_t>(inner.l4 + kVxlanOuterLen);
  md->inner = inner;
  FrameLayers& outer = md->outer;
  outer = FrameLayers{};
  outer.l3 = offsetof(VxlanOuterHeader, ip);
  outer.l4 = offsetof(VxlanOuterHeader, udp);
  outer.ethertype = RTE_ETHER_TYPE_IPV4;
  outer.l3_type = L3Type::kIpv4;
  outer.l4_proto = IPPROTO_UDP;
  outer.flags = kFlagVxlan;
}

}  // namespace

void VxlanEncapStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const std::vector<Vtep>& vteps = snap.vteps.vteps;
  NeighborTable& neighbors = *snap.neighbors;
  // Consecutive frames nearly always go to one VTEP: its next hop is looked
  // at (and probed, when due) once per run of them.
  uint32_t run_vtep = UINT32_MAX;
  bool resolved = false;
  rte_ether_addr next_hop{};
  for (uint16_t i = 0; i < std::min(n, kPrefetchAhead); ++i) prefetch_headroom(pkts[i]);
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) prefetch_headroom(pkts[i + kPrefetchAhead]);
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->tunnel >= vteps.size()) {  // L2 lookup and flood only name VTEPs of the snapshot
      drop(m, DropReason::internal_error);
      continue;
    }
    const Vtep& vtep = vteps[md->tunnel];
    if (md->tunnel != run_vtep) {
      run_vtep = md->tunnel;
      resolved = vtep.routable && neighbors.lookup(vtep.neighbor, next_hop);
      // A trace (ctx.tracer) takes no probe turn from the neighbor table the
      // workers share.
      if (vtep.routable && ctx.tracer == nullptr &&
          (!resolved || neighbors.stale(vtep.neighbor, ctx.now_tsc)) && neighbors.should_probe(vtep.neighbor, ctx.now_tsc))
        probe_neighbor(ctx, snap, vtep.next_hop, edge(VxlanEncapNext::kOut));
    }
    const uint32_t frame_len = rte_pktmbuf_pkt_len(m);
    if (frame_len - md->outer.l3 > snap.vnics.by_port[md->in_port].mtu) {
      drop(m, DropReason::vxlan_encap_mtu);
      continue;
    }
    if (!resolved) {
      drop(m, vtep.routable ? DropReason::vxlan_neighbor_unresolved : DropReason::vxlan_no_underlay_route);
      continue;
    }
    auto* outer = reinterpret_cast<VxlanOuterHeader*>(rte_pktmbuf_prepend(m, kVxlanOuterLen));
    if (outer == nullptr) {
      drop(m, DropReason::vxlan_no_headroom);
      continue;
    }
    std::memcpy(outer, &vtep.outer, kVxlanOuterLen);
    write_outer_per_packet(outer, next_hop, vtep.ip_partial_sum, frame_len, md->vni, flow_hash_of(m));
    describe_encapsulated(md);
    md->out_port = snap.underlay_port;
    send(m, VxlanEncapNext::kOut);
  }
}

}  // namespace weft::dp
