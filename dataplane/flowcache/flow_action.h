#pragma once
// The cached result of one direction of a connection's walk through the
// pipeline: what the flow cache does to every later packet of that
// direction instead of walking again.
//
// Recorded by kFlowCommit from the first packet of the direction that
// walked the full pipeline (L2 lookup, security groups, ...) and applied by
// kFlowLookup: the packet is sent straight to `next` with `out_port` and
// `tunnel` set, as the walk had left them. Indices (tunnel, rewrite) point
// into the snapshot the action was computed with; the entry's generation
// guarantees they are only used with that snapshot.
//
// Plain data inside a ConnEntry (conntrack/conn_entry.h); its owner's rules.

#include <cstdint>

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

struct FlowAction {
  NodeId next = NodeId::kParse;  // kTx or kVxlanEncap; kParse: none recorded yet
  uint8_t flags = 0;             // reserved for rewrites that need a bit (NAT, TTL)
  uint16_t in_port = 0;          // where this direction's packets arrive
  uint16_t out_port = 0;         // PktMeta::out_port to set
  uint16_t tunnel = 0;           // PktMeta::tunnel: the VTEP index, for kVxlanEncap
  // A header rewrite (routed MACs and TTL, NAT, load-balancer backend) by
  // index into the snapshot's rewrite table; 0: none. Kept for the L3, NAT
  // and LB stages: the slot is here so that they extend the entry without
  // growing it.
  uint16_t rewrite = 0;

  bool recorded() const { return next != NodeId::kParse; }
};
static_assert(sizeof(FlowAction) == 10);

}  // namespace weft::dp
