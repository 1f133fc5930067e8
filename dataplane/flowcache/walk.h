#pragma once
// Where the full pipeline walk leaves a unicast packet for the flow cache's
// slow-path stages: L2 lookup (and later routing) set out_port, and for a
// remote port the VTEP in PktMeta::tunnel with out_port the underlay. What
// kSecurityGroup forwards to and what kFlowCommit records.
//
// Any worker; reads the snapshot.

#include "dataplane/pipeline/meta.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

inline NodeId walk_next(const Snapshot& snap, const PktMeta& md) {
  return md.out_port == snap.underlay_port ? NodeId::kVxlanEncap : NodeId::kTx;
}

}  // namespace weft::dp
