#pragma once
// kUnderlayArp: ARP on the underlay port, where the node is an ordinary IPv4
// host with one address, its VTEP.
//
//   request for the VTEP address     -> answered in place, back out the
//                                       underlay (the peers resolve us)
//   any ARP from a tracked neighbor  -> its MAC learned into the
//     (peer VTEP or next hop)           NeighborTable (RFC 826's merge: a
//                                       request to us teaches the asker too)
//   reply to us from a neighbor      -> learned and consumed
//                                       (underlay_arp_learned)
//   anything else                    -> underlay_arp_not_ours: the underlay
//                                       is a shared segment, other hosts'
//                                       ARP is normal and not ours to use
//
// Only addresses the snapshot builder tracks are learned, so the table
// cannot be grown from the wire; a sender MAC that is not a unicast address
// is never learned.
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
