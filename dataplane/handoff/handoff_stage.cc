#include "dataplane/handoff/handoff_stage.h"

#include "dataplane/handoff/conn_owner.h"
#include "dataplane/handoff/owner.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void HandoffStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const unsigned self = endpoint_.worker();
  const unsigned workers = endpoint_.workers();
  const uint32_t generation = ctx.snap->generation;
  // A node that translates decides owners by conn_owner.h's rules; one
  // that does not pays for nothing beyond the key's hash.
  const ConnOwner owners(*ctx.snap, workers);
  const bool plain = owners.plain();
  uint32_t received = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->generation != 0) {  // handed in: this worker is its owner
      ++received;
      const bool stale = md->generation != generation && md->in_port == ctx.snap->underlay_port;
      md->generation = 0;
      if (stale) {
        drop(m, DropReason::handoff_stale);
        continue;
      }
      send(m, HandoffNext::kOwn);
      continue;
    }
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const unsigned owner =
        plain ? packet_owner(data, md->outer, md->vni, workers) : owners.of_packet(data, md->outer, md->vni);
    if (owner == kAnyWorker || owner == self) {
      send(m, HandoffNext::kOwn);
      continue;
    }
    md->generation = generation;
    hand_off(m);
    endpoint_.hold(owner, m);
  }
  if (ctx.stats != nullptr) ctx.stats->handoff_received.add(received);
}

}  // namespace weft::dp
