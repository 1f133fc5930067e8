#include "dataplane/arp/arp_responder.h"

#include <rte_arp.h>
#include <rte_hash.h>

#include <algorithm>

#include "dataplane/arp/arp_frame.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void ArpResponderStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const rte_hash* arp = ctx.snap->arp.by_ip.get();
  for (uint16_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
    const uint16_t count = std::min<uint16_t>(n - base, RTE_HASH_LOOKUP_BULK_MAX);
    rte_mbuf** burst = pkts + base;

    // Requests first, looked up together; everything else passes on.
    uint64_t keys[RTE_HASH_LOOKUP_BULK_MAX];
    const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    uint16_t which[RTE_HASH_LOOKUP_BULK_MAX];
    uint32_t requests = 0;
    for (uint16_t i = 0; i < count; ++i) {
      rte_mbuf* m = burst[i];
      const PktMeta* md = meta(m);
      const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, md->outer.l3);
      send(m, ArpResponderNext::kForward);
      if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) continue;
      const rte_be32_t tip = arp->arp_data.arp_tip;
      // Gratuitous: an announcement for the others to hear, not a question.
      if (tip == arp->arp_data.arp_sip) continue;
      keys[requests] = arp_key(md->vni, rte_be_to_cpu_32(tip));
      key_ptrs[requests] = &keys[requests];
      which[requests++] = i;
    }
    if (requests == 0) continue;

    uint64_t hits = 0;
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(arp, key_ptrs, requests, &hits, data);
    for (uint32_t k = 0; k < requests; ++k) {
      if (!(hits & (uint64_t{1} << k))) continue;
      rte_mbuf* m = burst[which[k]];
      PktMeta* md = meta(m);
      auto* eth = rte_pktmbuf_mtod_offset(m, rte_ether_hdr*, md->outer.l2);
      auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, md->outer.l3);
      const rte_ether_addr answer = data_mac(data[k]);
      // A probe for its own address: let it see no answer.
      if (rte_is_same_ether_addr(&answer, &arp->arp_data.arp_sha)) continue;
      arp_reply_in_place(eth, arp, answer);
      md->out_port = md->in_port;
      send(m, ArpResponderNext::kAnswer);
    }
  }
}

}  // namespace weft::dp
