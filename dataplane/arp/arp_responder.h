#pragma once
// kArpResponder: ARP suppression for the VMs. An ARP request from a vNIC for
// an address its network knows (a port anywhere in the network, a subnet
// gateway, a load-balancer VIP: Snapshot::arp) is answered here, in
// place, back out the port it came in on; it never crosses the underlay.
//
// What it leaves to kL2Lookup, which floods broadcasts within the network
// (SPEC: "broadcast and unknown unicast that ARP suppression does not cover
// are replicated to the VNI's flood list"):
//   - requests for addresses the network does not know (e.g. an
//     allowed_addresses IP that moves between VMs: its owner answers);
//   - gratuitous ARP (sender IP == target IP): an announcement, which the
//     other VMs must see when an allowed address fails over;
//   - requests whose answer would be the requester's own MAC (a duplicate
//     address probe for its own address: answering would fake a conflict);
//   - replies, which are unicast and forwarded like any frame.
//
// Port security has already checked the sender. Tables are looked up for the
// whole burst at once (rte_hash_lookup_bulk_data).
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class ArpResponderNext : uint8_t { kAnswer, kForward, kCount };

class ArpResponderStage final : public StageWith<ArpResponderNext> {
 public:
  ArpResponderStage() noexcept : StageWith({"answer", "forward"}) {}
  std::string_view name() const override { return "arp_responder"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
