#include "dataplane/underlay/neighbor_probe.h"

#include "dataplane/arp/arp_frame.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

rte_mbuf* make_arp_request(StageCtx& ctx, uint16_t port, const rte_ether_addr& mac, uint32_t sender_ip,
                           uint32_t target_ip) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
  if (m == nullptr) return nullptr;
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kArpFrameLen));
  if (frame == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  write_arp_request(frame, mac, sender_ip, target_ip);
  PktMeta* md = meta(m);
  *md = PktMeta{};
  md->outer.l3 = sizeof(rte_ether_hdr);
  md->outer.ethertype = RTE_ETHER_TYPE_ARP;
  md->outer.l3_type = L3Type::kArp;
  md->in_port = port;  // a drop (tx_full) is counted against the port it leaves on
  md->out_port = port;
  return m;
}

void probe_neighbor(StageCtx& ctx, const Snapshot& snap, uint32_t target_ip, NodeId tx) noexcept {
  rte_mbuf* m = make_arp_request(ctx, snap.underlay_port, snap.underlay.mac, snap.underlay.ip, target_ip);
  if (m != nullptr) ctx.pipeline->enqueue(m, tx);
}

}  // namespace weft::dp
