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

#include <cstdint>

#include "dataplane/pipeline/tail.h"

namespace weft::dp {

struct FlowAction {
  TailStep tail = TailStep::kNone;  // kNone: nothing recorded yet
  uint8_t qos = 0;                  // PktMeta::qos to set: the classes, classified once
  uint16_t in_port = 0;             // where this direction's packets arrive
  uint16_t out_port = 0;            // PktMeta::out_port to set
  uint16_t tunnel = 0;              // PktMeta::tunnel: the VTEP index, for encap
  uint16_t rewrite = 0;             // PktMeta::rewrite: the snapshot's rewrite entry; 0: none

  bool recorded() const { return tail != TailStep::kNone; }
};
static_assert(sizeof(FlowAction) == 10);

}  // namespace weft::dp
