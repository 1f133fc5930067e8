#pragma once
// kPolicyGate: the first forwarding stage. Until the node has applied a
// policy (Snapshot::has_policy), every parsed packet is dropped and counted
// as no_policy, so an operator sees at once why nothing is forwarded; after,
// packets pass on to `next` untouched.
//
// Runs on the worker that owns it.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class PolicyGateNext : uint8_t { kOpen, kCount };

class PolicyGateStage final : public StageWith<PolicyGateNext> {
 public:
  PolicyGateStage() noexcept : StageWith({"open"}) {}

  std::string_view name() const override { return "policy_gate"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
