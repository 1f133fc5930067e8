#pragma once
// kTunnelSource: the inner source checks for decapsulated frames that the
// flow cache did not take (a miss, a stale or unrecorded direction, ARP,
// broadcast). A frame passes when
//
//   its source MAC (FDB) and its IPv4 source or ARP sender address (the
//     router's hosts) are, where the policy places them, on the sending
//     peer (PktMeta::src_vtep); the network's router MAC and addresses
//     belong to every node; a source the policy places nowhere (an
//     allowed address, the outside world behind a gateway) passes   else vxlan_inner_src_spoofed
//   it is not a cached connection's packet from another peer        else ct_port_mismatch
//
// so a peer node sends only as the ports it hosts. A flow-cache hit skips
// these lookups: the walk that recorded its direction made them for the
// same peer, and the recorded ingress (FlowAction::ingress) binds the
// direction to that peer, so a hit costs one compare instead of two hash
// lookups (docs/performance.md). The one thing a hit does not re-check is
// the inner source MAC, which is not part of the connection's key: a peer
// can change it only on a connection of a source it may send as.
//
// Lookups in bulk, over the burst. Runs on the worker that owns it; reads
// the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class TunnelSourceNext : uint8_t { kChecked, kCount };

class TunnelSourceStage final : public StageWith<TunnelSourceNext> {
 public:
  TunnelSourceStage() noexcept : StageWith({"checked"}) {}

  std::string_view name() const override { return "tunnel_source"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
