#pragma once
// kL2Lookup: the overlay's bridge. Looks the whole burst up in the FDB on
// (VNI, destination MAC) with one rte_hash_lookup_bulk_data per 64 frames,
// and names each frame's next node:
//
//   broadcast or multicast destination     -> kFlood
//   unknown unicast                        -> kFlood
//   a vNIC on this node                    -> kTx on that port
//       ... the port it came in on         -> drop l2_same_port
//       ... a port bound to no vNIC        -> drop l2_port_unbound
//   a port on another node                 -> kVxlanEncap (PktMeta::tunnel = its VTEP)
//       ... for a frame from the underlay  -> drop l2_underlay_to_underlay
//   the network's router MAC               -> the routing node given at
//                                             construction (kDrop: no_route)
//
// The VNI is part of every key, so a frame can only ever find entries of
// its own network: isolation needs no check of its own. Frames come from
// port security (vNIC side; VNI of the port) or from decap (underlay side;
// VNI of the tunnel, the outer headers already removed).
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

class L2LookupStage final : public Stage {
 public:
  // `routed`: where frames for the distributed router go. `unicast`: where
  // frames for a known port go, out_port and tunnel set, before kTx or
  // kVxlanEncap (the flow cache's security-group check, kSecurityGroup);
  // kCount: straight there.
  explicit L2LookupStage(NodeId routed = NodeId::kDrop, NodeId unicast = NodeId::kCount) noexcept
      : routed_(routed), unicast_(unicast) {}

  std::string_view name() const override { return "l2_lookup"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  // The node a known unicast frame goes to, given where it would go.
  NodeId to(NodeId next) const { return unicast_ == NodeId::kCount ? next : unicast_; }

  NodeId routed_;
  NodeId unicast_;
};

}  // namespace weft::dp
