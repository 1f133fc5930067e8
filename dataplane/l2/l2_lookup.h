#pragma once
// kL2Lookup: the overlay's bridge. Looks the whole burst up in the FDB on
// (VNI, destination MAC) with one rte_hash_lookup_bulk_data per 64 frames,
// and names each frame's next node:
//
//   broadcast or multicast destination     -> kFlood
//   unknown unicast                        -> kFlood
//   a vNIC on this node                    -> kUnicast, out_port that port
//       ... the port it came in on         -> drop l2_same_port
//       ... a port bound to no vNIC        -> drop l2_port_unbound
//   a port on another node                 -> kUnicast, out_port the underlay,
//                                             PktMeta::tunnel its VTEP
//       ... for a frame from the underlay  -> drop l2_underlay_to_underlay
//   the network's router MAC               -> kRouted: the router (l3/)
//
// The VNI is part of every key, so a frame can only ever find entries of
// its own network: isolation needs no check of its own. Frames come from
// port security (vNIC side; VNI of the port) or from decap (underlay side;
// VNI of the tunnel, the outer headers already removed).
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// kUnicast: a known port, out_port (and tunnel) set: the security groups
// come next. kRouted: the distributed router. kFlood: everyone else.
enum class L2LookupNext : uint8_t { kUnicast, kRouted, kFlood, kCount };

class L2LookupStage final : public StageWith<L2LookupNext> {
 public:
  L2LookupStage() noexcept : StageWith({"unicast", "routed", "flood"}) {}

  std::string_view name() const override { return "l2_lookup"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
