#pragma once
// kFlowCommit: the end of a flow-cache miss's walk. The packet's result, as
// the walk left it (its tail step, the output port, the VTEP, the rewrite)
// is recorded in its connection's entry for the direction it
// went, with the snapshot generation it was decided under; every later
// packet of that direction is then a kFlowLookup hit.
//
//   new connection     -> an entry, opened by this packet (conn_state.h);
//                         no room (ConnTable's eviction failed) drops
//                         ct_table_full. A second packet of the same new
//                         connection in one burst finds the entry the first
//                         made and is tracked like any later packet.
//   stale connection   -> re-stamped with this generation; the other
//                         direction's result, computed under the old
//                         snapshot, is forgotten and recorded afresh by its
//                         next packet
//   first reply        -> its direction recorded
//
// Then the packet goes on to its tail step (pipeline/tail.h). An entry that vanished since
// kFlowLookup (evicted by a new connection of the same burst) is not
// recreated: its packet is forwarded as allowed, and the next one walks.
//
// Runs on the worker that owns the table; reads the snapshot.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class FlowCommitNext : uint8_t { kRewrite, kEncap, kLocal, kQos, kCount };

class FlowCommitStage final : public StageWith<FlowCommitNext> {
 public:
  explicit FlowCommitStage(ConnTable& table) noexcept
      : StageWith({"rewrite", "encap", "local", "qos"}), table_(table) {}

  std::string_view name() const override { return "flow_commit"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  ConnTable& table_;
};

}  // namespace weft::dp
