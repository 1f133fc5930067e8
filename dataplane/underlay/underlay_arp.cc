#include "dataplane/underlay/underlay_arp.h"

#include <rte_arp.h>

#include "dataplane/arp/arp_frame.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/underlay/host_arp.h"

namespace weft::dp {

void UnderlayArpStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  NeighborTable& neighbors = *snap.neighbors;
  const rte_be32_t own_ip = rte_cpu_to_be_32(snap.underlay.ip);
  auto is_own = [own_ip](rte_be32_t ip) { return ip == own_ip; };
  auto on_link = [&snap](uint32_t ip) { return snap.underlay.on_link(ip); };
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    auto* eth = rte_pktmbuf_mtod_offset(m, rte_ether_hdr*, md->outer.l2);
    auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, md->outer.l3);
    switch (host_arp(neighbors, *arp, ctx.now_tsc, is_own, on_link)) {
      case HostArp::kAnswer:
        arp_reply_in_place(eth, arp, snap.underlay.mac);
        md->out_port = md->in_port;
        send(m, UnderlayArpNext::kReply);
        break;
      case HostArp::kLearned:
        drop(m, DropReason::underlay_arp_learned);
        break;
      case HostArp::kNotOurs:
        drop(m, DropReason::underlay_arp_not_ours);
        break;
    }
  }
}

}  // namespace weft::dp
