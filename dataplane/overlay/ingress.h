#pragma once
// kIngress: where a parsed packet enters the overlay, by the role of the
// port it arrived on (Snapshot::ports).
//
//   vNIC of a policy port   -> kPortSecurity  (its VNI is set there)
//   vNIC no port names      -> drop port_not_in_policy
//   underlay, VXLAN         -> kVxlanDecap
//   underlay, ARP           -> kUnderlayArp
//   underlay, anything else -> drop underlay_not_vxlan: the node's only
//                              business on the underlay is tunnels and ARP
//   the gateway's external  -> kExternalIn (gateway/)
//     port
//
// Runs on the worker that owns it, after kPolicyGate (so the snapshot is
// there and holds a policy).

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class IngressNext : uint8_t { kVnic, kTunnel, kUnderlayArp, kExternal, kCount };

class IngressStage final : public StageWith<IngressNext> {
 public:
  IngressStage() noexcept : StageWith({"vnic", "tunnel", "underlay_arp", "external"}) {}
  std::string_view name() const override { return "ingress"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
