#pragma once
// kVxlanEncap: frames from the node's vNICs for a port on another node
// (L2 lookup or flood set PktMeta::tunnel to the remote VTEP) leave on the
// underlay inside VXLAN (RFC 7348 §5):
//
//   outer Ethernet  underlay port's MAC -> the next hop's (peer VTEP on the
//                   underlay subnet, else the configured next hop)
//   outer IPv4      this node's VTEP -> the peer's, TTL 64, DF set, checksum
//   outer UDP       source port from the inner flow hash (49152-65535),
//                   destination 4789, checksum 0
//   VXLAN           I flag, the network's VNI
//
// Per packet that is one memcpy of the VTEP's precomputed header
// (Vtep::outer) and a handful of stores (vxlan/wire.h); the IPv4
// checksum is the template's partial sum plus the length, never a sum over
// the header.
//
// Drops: a frame larger than its network's MTU (vxlan_encap_mtu: never
// fragmented), a VTEP with no underlay route (vxlan_no_underlay_route), a
// next hop whose MAC is not known yet (vxlan_neighbor_unresolved, and an
// ARP request goes out, at most one per neighbor per probe interval), an
// mbuf without 50 bytes of headroom (vxlan_no_headroom). A MAC confirmed
// longer ago than the reachable time is still used, and re-probed
// (underlay/neighbor_table.h).
//
// Runs on the worker that owns it. Reads the snapshot; touches only the
// shared NeighborTable's lock-free probe state.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class VxlanEncapNext : uint8_t { kOut, kCount };

class VxlanEncapStage final : public StageWith<VxlanEncapNext> {
 public:
  VxlanEncapStage() noexcept : StageWith({"out"}) {}

  std::string_view name() const override { return "vxlan_encap"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
