#include "dataplane/underlay/underlay_arp.h"

#include <rte_arp.h>

#include "dataplane/arp/arp_frame.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void UnderlayArpStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  NeighborTable& neighbors = *snap.neighbors;
  const rte_be32_t own_ip = rte_cpu_to_be_32(snap.underlay.ip);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    auto* eth = rte_pktmbuf_mtod_offset(m, rte_ether_hdr*, md->outer.l2);
    auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, md->outer.l3);
    const rte_arp_ipv4& a = arp->arp_data;

    // A sender that is no unicast host gets neither an entry nor an answer.
    if (!rte_is_valid_assigned_ether_addr(&a.arp_sha)) {
      drop(m, DropReason::underlay_arp_not_ours);
      continue;
    }
    const uint32_t sender = rte_be_to_cpu_32(a.arp_sip);
    const uint32_t slot = neighbors.find(sender);
    const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
    // A gratuitous ARP (sender and target the same address) from a tracked
    // neighbor's own address on the underlay subnet: it moved.
    if (slot != NeighborTable::kNone && a.arp_sip == a.arp_tip && snap.underlay.on_link(sender) &&
        (op == RTE_ARP_OP_REQUEST || op == RTE_ARP_OP_REPLY))
      neighbors.learn(slot, sender, a.arp_sha, ctx.now_tsc);
    if (a.arp_tip != own_ip) {
      drop(m, DropReason::underlay_arp_not_ours);
      continue;
    }
    if (op == RTE_ARP_OP_REQUEST) {
      // Answered, but nothing learned from it: anyone may ask.
      arp_reply_in_place(eth, arp, snap.underlay.mac);
      md->out_port = md->in_port;
      send(m, UnderlayArpNext::kReply);
    } else if (op == RTE_ARP_OP_REPLY && slot != NeighborTable::kNone &&
               neighbors.take_expected_reply(slot, ctx.now_tsc)) {
      // The answer to this node's own request.
      neighbors.learn(slot, sender, a.arp_sha, ctx.now_tsc);
      drop(m, DropReason::underlay_arp_learned);
    } else {
      drop(m, DropReason::underlay_arp_not_ours);
    }
  }
}

}  // namespace weft::dp
