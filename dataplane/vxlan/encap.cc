#include "dataplane/vxlan/encap.h"

#include <cstring>

#include "dataplane/tables/snapshot.h"
#include "dataplane/underlay/neighbor_probe.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {
namespace {

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
  const OverlayTables& t = snap.overlay;
  NeighborTable& neighbors = *snap.neighbors;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->tunnel >= t.vteps.size()) {  // L2 lookup and flood only name VTEPs of the snapshot
      drop(m, DropReason::no_route);
      continue;
    }
    const OverlayVtep& vtep = t.vteps[md->tunnel];
    const uint32_t frame_len = rte_pktmbuf_pkt_len(m);
    if (frame_len - md->outer.l3 > t.vnics[md->in_port].mtu) {
      drop(m, DropReason::vxlan_encap_mtu);
      continue;
    }
    if (!vtep.routable) {
      drop(m, DropReason::vxlan_no_underlay_route);
      continue;
    }
    rte_ether_addr next_hop;
    if (!neighbors.lookup(vtep.neighbor, next_hop)) {
      if (neighbors.should_probe(vtep.neighbor, ctx.now_tsc)) probe_neighbor(ctx, snap, vtep.next_hop);
      drop(m, DropReason::vxlan_neighbor_unresolved);
      continue;
    }
    if (neighbors.stale(vtep.neighbor, ctx.now_tsc) && neighbors.should_probe(vtep.neighbor, ctx.now_tsc))
      probe_neighbor(ctx, snap, vtep.next_hop);

    auto* outer = reinterpret_cast<VxlanOuterHeader*>(rte_pktmbuf_prepend(m, kVxlanOuterLen));
    if (outer == nullptr) {
      drop(m, DropReason::vxlan_no_headroom);
      continue;
    }
    std::memcpy(outer, &vtep.outer, kVxlanOuterLen);
    write_outer_per_packet(outer, next_hop, vtep.ip_partial_sum, frame_len, md->vni, md->flow_hash);
    describe_encapsulated(md);
    md->out_port = snap.underlay_port;
    send_to(m, NodeId::kTx);
  }
}

}  // namespace weft::dp
