#pragma once
// The cached result of one direction of a connection's walk through the
// pipeline: what the flow cache does to every later packet of that
// direction instead of walking again.
//
// Recorded by kFlowCommit from the first packet of the direction that
// walked the full pipeline (L2 lookup, routing, security groups, ...) and
// applied by kFlowLookup: the packet gets `out_port`, `tunnel` and
// `rewrite` as the walk had left them and goes straight to the tail step
// `tail` (pipeline/tail.h). Indices (tunnel, rewrite) point into the
// snapshot the action was computed with; the entry's generation guarantees
// they are only used with that snapshot.
//
// A translation (NAT, a load balancer's backend) is not part of the action:
// it is binding state of the connection (ConnTable::translate), which
// outlives a policy change that recomputes the action.
//
// Plain data inside a ConnEntry (conn_entry.h); its owner's rules.

#include <rte_config.h>

#include <cstdint>

#include "dataplane/pipeline/meta.h"
#include "dataplane/pipeline/tail.h"

namespace weft::dp {

// Where a direction's packets come from, as FlowAction::ingress records
// it: the local port for a vNIC's, the sending peer's VTEP for the
// underlay's. Binding a cached direction to one peer lets decap skip the
// inner source checks (vxlan/tunnel_source.h) on a hit: the walk that
// recorded the direction made them for that peer, and a packet of the
// connection from any other peer is no hit.
inline constexpr uint16_t kIngressVtep = RTE_MAX_ETHPORTS;  // + VTEP index
inline uint16_t packet_ingress(const PktMeta& md, uint16_t underlay_port) {
  return md.in_port == underlay_port ? static_cast<uint16_t>(kIngressVtep + md.src_vtep) : md.in_port;
}

struct FlowAction {
  TailStep tail = TailStep::kNone;  // kNone: nothing recorded yet
  uint8_t qos = 0;                  // PktMeta::qos to set: the classes, classified once
  uint16_t ingress = 0;             // packet_ingress() of this direction's packets
  uint16_t out_port = 0;            // PktMeta::out_port to set
  uint16_t tunnel = 0;              // PktMeta::tunnel: the VTEP index, for encap
  uint16_t rewrite = 0;             // PktMeta::rewrite: the snapshot's rewrite entry; 0: none

  bool recorded() const { return tail != TailStep::kNone; }
};
static_assert(sizeof(FlowAction) == 10);

}  // namespace weft::dp
