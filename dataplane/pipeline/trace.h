#pragma once
// The hook through which a traced run of the pipeline reports what each
// stage did (`weftctl trace`, dataplane/trace/). A trace runs the real
// stages on a pipeline of its own (never a worker's), with
// StageCtx::tracer set: the runner calls stage_done() after every node
// that processed packets, and a stage whose decision rests on a table
// entry the packet's metadata does not show (the security-group rule that
// allowed it, the route it took) reports that entry with trace_fact().
//
// On a worker StageCtx::tracer is null: the runner pays one predictable
// branch per node visited, a stage one per packet where it reports a fact,
// and the tables carry nothing for traces on the fast path.
//
// Called on the thread that runs the trace's pipeline.

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class TraceFact : uint8_t {
  kSgEgressRule,   // value: SecurityGroupTable rule id that allowed it, 0: none did; port: the source's
  kSgEgressAll,    // port: the source port, whose groups allow every outbound connection
  kSgIngressRule,  // value: as kSgEgressRule; port: the destination's
  kRoute,          // value: index into RouteTable::routes
  kNoRoute,        // the network's FIB has no route for the destination
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  // Node `node` has processed `pkts`; their metadata says where each goes.
  virtual void stage_done(NodeId node, rte_mbuf* const* pkts, uint16_t n) noexcept = 0;
  // A stage's decision about `m` rests on this entry.
  virtual void fact(const rte_mbuf* m, TraceFact what, uint32_t value, uint16_t port) noexcept = 0;
};

inline void trace_fact(const StageCtx& ctx, const rte_mbuf* m, TraceFact what, uint32_t value,
                       uint16_t port = 0) noexcept {
  if (ctx.tracer != nullptr) [[unlikely]]
    ctx.tracer->fact(m, what, value, port);
}

}  // namespace weft::dp
