#pragma once
// Where a routed packet goes once its destination is known (a route's next
// hop, or a host of the routes' hosts table): shared by the router (l3/)
// and the gateway's way in (gateway/gateway_in.h).
//
// Any thread; a pure function of the metadata.

#include "dataplane/l3/route_table.h"
#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

// Points a routed packet at `to`: its local vNIC, or the tunnel to its
// VTEP, with the rewrite that delivers there. Otherwise the reason to drop
// it (a port bound to no vNIC here; a router address, which no builder
// makes a destination), and nothing set.
inline DropReason route_to(PktMeta& md, const HostEntry& to, uint16_t underlay_port) noexcept {
  switch (to.kind) {
    case FdbKind::kLocal:
      md.out_port = to.value;
      md.tunnel = 0;
      break;
    case FdbKind::kRemote:
      md.out_port = underlay_port;
      md.tunnel = to.value;
      break;
    case FdbKind::kUnbound:
      return DropReason::l2_port_unbound;
    default:
      return DropReason::internal_error;
  }
  md.rewrite = to.rewrite;
  return DropReason::kNone;
}

}  // namespace weft::dp
