#include "dataplane/underlay/neighbor_probe.h"

#include "dataplane/arp/arp_frame.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void probe_neighbor(StageCtx& ctx, const Snapshot& snap, uint32_t target_ip, NodeId tx) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
  if (m == nullptr) return;
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kArpFrameLen));
  if (frame == nullptr) {
    rte_pktmbuf_free(m);
    return;
  }
  write_arp_request(frame, snap.underlay.mac, snap.underlay.ip, target_ip);
  PktMeta* md = meta(m);
  *md = PktMeta{};
  md->outer.l3 = sizeof(rte_ether_hdr);
  md->outer.ethertype = RTE_ETHER_TYPE_ARP;
  md->outer.l3_type = L3Type::kArp;
  md->in_port = snap.underlay_port;  // a drop (tx_full) is counted against the underlay
  md->out_port = snap.underlay_port;
  ctx.pipeline->enqueue(m, tx);
}

}  // namespace weft::dp
