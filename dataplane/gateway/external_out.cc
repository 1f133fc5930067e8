#include "dataplane/gateway/external_out.h"

#include "dataplane/gateway/vlan.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/underlay/neighbor_probe.h"

namespace weft::dp {

void ExternalOutStage::probe(StageCtx& ctx, const Snapshot& snap) const noexcept {
  const ExternalIdentity& ext = snap.external;
  rte_mbuf* m = make_arp_request(ctx, snap.external_port, ext.mac, rte_be_to_cpu_32(snap.gateway.external_ip),
                                 snap.gateway.next_hop);
  if (m == nullptr) return;
  if (ext.vlan != 0 && !push_vlan(m, *meta(m), ext.vlan)) {
    rte_pktmbuf_free(m);
    return;
  }
  ctx.pipeline->enqueue(m, edge(ExternalOutNext::kOut));
}

void ExternalOutStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const GatewayTable& gw = snap.gateway;
  const ExternalIdentity& ext = snap.external;
  if (!gw.hosted || snap.external_port == kNoPort) {  // no route leads here then
    for (uint16_t i = 0; i < n; ++i) drop(pkts[i], DropReason::internal_error);
    return;
  }
  NeighborTable& neighbors = *snap.external_neighbors;
  rte_ether_addr next_hop{};
  const bool resolved = neighbors.lookup(gw.next_hop_slot, next_hop);
  bool looked = false;  // the next hop's state, once per burst that needs its MAC
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->outer.l3_type != L3Type::kArp) {
      if (!looked) {
        looked = true;
        if ((!resolved || neighbors.stale(gw.next_hop_slot, ctx.now_tsc)) &&
            neighbors.should_probe(gw.next_hop_slot, ctx.now_tsc))
          probe(ctx, snap);
      }
      if (!resolved) {
        drop(m, DropReason::gw_next_hop_unresolved);
        continue;
      }
      auto* eth = rte_pktmbuf_mtod_offset(m, rte_ether_hdr*, md->outer.l2);
      eth->src_addr = ext.mac;
      eth->dst_addr = next_hop;
    }
    if (ext.vlan != 0 && !push_vlan(m, *md, ext.vlan)) {
      drop(m, DropReason::gw_no_headroom);
      continue;
    }
    md->out_port = snap.external_port;
    send(m, ExternalOutNext::kOut);
  }
}

}  // namespace weft::dp
