#pragma once
// kUnderlayArp: ARP on the underlay port, where the node is an ordinary IPv4
// host with one address, its VTEP.
//
//   request for the VTEP address     -> answered in place, back out the
//                                       underlay (the peers resolve us);
//                                       nothing learned from it
//   reply to us from a tracked       -> learned and consumed
//     neighbor (peer VTEP or next       (underlay_arp_learned), but only
//     hop) that this node asked         while this node's own request for
//                                       it is outstanding (NeighborTable::
//                                       take_expected_reply), once
//   gratuitous ARP (sender address   -> its MAC learned: the neighbor
//     = target address) from a          announces a move
//     tracked neighbor's own address
//     on the underlay subnet
//   anything else                    -> underlay_arp_not_ours: the underlay
//                                       is a shared segment, other hosts'
//                                       ARP is normal and not ours to use
//
// Only addresses the snapshot builder tracks are learned, so the table
// cannot be grown from the wire, and a host on the underlay cannot take a
// VTEP's traffic by answering what nobody asked; a sender MAC that is not
// a unicast address is never learned.
//
// Runs on any worker; NeighborTable::learn is safe against the others.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class UnderlayArpNext : uint8_t { kReply, kCount };

class UnderlayArpStage final : public StageWith<UnderlayArpNext> {
 public:
  UnderlayArpStage() noexcept : StageWith({"reply"}) {}
  std::string_view name() const override { return "underlay_arp"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
