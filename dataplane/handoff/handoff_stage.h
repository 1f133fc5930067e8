#pragma once
// kHandoff: every packet that will meet the flow cache goes to the worker
// that owns its connection (owner.h; on a node whose snapshot translates,
// conn_owner.h), as VPP's handoff node does. It sits
// just before kFlowLookup, after port security and VXLAN decap, so it
// reads the frame the flow cache will look up (the inner one of a tunnel
// packet) and every worker does the stateless work of its own rx queues.
//
//   owned here, or nobody's (ARP, IPv6, ...)  -> kOwn (the flow cache)
//   another worker's  -> held in this worker's HandoffEndpoint (handoff_mesh.h),
//                        out of the pipeline; the worker enqueues it on the
//                        owner's ring after the run
//   handed in by another worker -> kOwn, not judged again; but a tunnel
//       packet classified under another snapshot than the one in force
//       here drops (handoff_stale): its peer VTEP is an index into the
//       sender's snapshot, which a policy change may have renumbered
//
// The handed-off packet carries the sender's snapshot generation in
// PktMeta::generation (which parse zeroes and nothing reads before the
// flow cache sets it); that is how the owner tells it from its own rx.
//
// Only in weftd's graph with more than one worker (graph.cc); with one,
// the edges lead straight to kFlowLookup and this costs nothing.
// Worker lcore only; one stage per worker, with that worker's endpoint.

#include "dataplane/handoff/handoff_mesh.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class HandoffNext : uint8_t { kOwn, kCount };

class HandoffStage final : public StageWith<HandoffNext> {
 public:
  explicit HandoffStage(HandoffEndpoint& endpoint) noexcept : StageWith({"own"}), endpoint_(endpoint) {}

  std::string_view name() const override { return "handoff"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  HandoffEndpoint& endpoint_;
};

}  // namespace weft::dp
