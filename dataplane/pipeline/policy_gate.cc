#include "dataplane/pipeline/policy_gate.h"

#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void PolicyGateStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const bool open = ctx.snap != nullptr && ctx.snap->has_policy();
  for (uint16_t i = 0; i < n; ++i) {
    if (open) send(pkts[i], PolicyGateNext::kOpen);
    else drop(pkts[i], DropReason::no_policy);
  }
}

}  // namespace weft::dp
