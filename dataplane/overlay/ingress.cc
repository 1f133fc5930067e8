#include "dataplane/overlay/ingress.h"

#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void IngressStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const PktMeta* md = meta(m);
    switch (snap.ports[md->in_port].role) {
      case PortRole::kVnic:
        if (snap.vnics.by_port[md->in_port].in_policy) send(m, IngressNext::kVnic);
        else drop(m, DropReason::port_not_in_policy);
        break;
      case PortRole::kUnderlay:
        if (md->outer.flags & kFlagVxlan) send(m, IngressNext::kTunnel);
        else if (md->outer.l3_type == L3Type::kArp) send(m, IngressNext::kUnderlayArp);
        else drop(m, DropReason::underlay_not_vxlan);
        break;
      case PortRole::kExternal:
        send(m, IngressNext::kExternal);
        break;
      case PortRole::kUnused:  // the worker polls only ports the Dataplane set up
        drop(m, DropReason::internal_error);
        break;
    }
  }
}

}  // namespace weft::dp
