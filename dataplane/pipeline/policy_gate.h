#pragma once
// kPolicyGate: the first forwarding stage. Until the node has applied a
// policy (Snapshot::has_policy), every parsed packet is dropped and counted
// as no_policy, so an operator sees at once why nothing is forwarded; after,
// packets pass on to `next` untouched.
//
// Runs on the worker that owns it.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

class PolicyGateStage final : public Stage {
 public:
  static constexpr NodeId kDefaultNext =
      static_cast<NodeId>(static_cast<uint8_t>(NodeId::kPolicyGate) + 1);

  explicit PolicyGateStage(NodeId next = kDefaultNext) noexcept : next_(next) {}

  std::string_view name() const override { return "policy_gate"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  NodeId next_;
};

}  // namespace weft::dp
