#include "dataplane/l2/l2_lookup.h"

#include <rte_hash.h>

#include <algorithm>

#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void L2LookupStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const rte_hash* fdb = snap.l2.fdb.get();
  for (uint16_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
    const uint16_t count = std::min<uint16_t>(n - base, RTE_HASH_LOOKUP_BULK_MAX);
    rte_mbuf** burst = pkts + base;

    FdbKey keys[RTE_HASH_LOOKUP_BULK_MAX];
    const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    uint16_t which[RTE_HASH_LOOKUP_BULK_MAX];
    uint32_t unicast = 0;
    for (uint16_t i = 0; i < count; ++i) {
      rte_mbuf* m = burst[i];
      const PktMeta* md = meta(m);
      const auto* eth = rte_pktmbuf_mtod_offset(m, const rte_ether_hdr*, md->outer.l2);
      if (rte_is_multicast_ether_addr(&eth->dst_addr)) {  // broadcast included
        send(m, L2LookupNext::kFlood);
        continue;
      }
      keys[unicast] = fdb_key(md->vni, eth->dst_addr);
      key_ptrs[unicast] = &keys[unicast];
      which[unicast++] = i;
    }
    if (unicast == 0) continue;

    uint64_t hits = 0;
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(fdb, key_ptrs, unicast, &hits, data);
    for (uint32_t k = 0; k < unicast; ++k) {
      rte_mbuf* m = burst[which[k]];
      PktMeta* md = meta(m);
      if (!(hits & (uint64_t{1} << k))) {
        send(m, L2LookupNext::kFlood);
        continue;
      }
      const FdbEntry e = fdb_entry(data[k]);
      switch (e.kind) {
        case FdbKind::kLocal:
          if (e.value == md->in_port) {
            drop(m, DropReason::l2_same_port);
          } else {
            md->out_port = e.value;
            send(m, L2LookupNext::kUnicast);
          }
          break;
        case FdbKind::kRemote:
          // A frame the underlay brought is for this node only: sending it
          // back would let any peer bounce traffic off us, or loop.
          if (md->in_port == snap.underlay_port) {
            drop(m, DropReason::l2_underlay_to_underlay);
          } else {
            md->tunnel = e.value;
            md->out_port = snap.underlay_port;
            send(m, L2LookupNext::kUnicast);
          }
          break;
        case FdbKind::kRouter:
          send(m, L2LookupNext::kRouted);
          break;
        case FdbKind::kUnbound:
          drop(m, DropReason::l2_port_unbound);
          break;
      }
    }
  }
}

}  // namespace weft::dp
