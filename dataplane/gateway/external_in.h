#pragma once
// kExternalIn: what arrives on the gateway's external port (node.yaml
// `external:`), before the flow cache sees it. The node is an ordinary
// IPv4 host there, with the gateway's external IP and every floating IP
// as its addresses. Each frame, in this order:
//
//   a VLAN tag other than the binding's      drop gw_vlan_mismatch (the tag,
//     (or one when none is bound, none          when right, is taken off:
//     when one is)                              vlan.h)
//   ARP (underlay/host_arp.h)                 a request for one of our
//                                             addresses: answered with the
//                                             port's MAC (kArpReply); the
//                                             next hop's reply to our own
//                                             request: learned
//                                             (gw_arp_learned); else
//                                             gw_arp_not_ours
//   not IPv4                                  drop gw_not_ipv4
//   to another MAC than the port's            drop gw_not_for_us
//   from a martian (0/8, 127/8, 224/4 and     drop gw_martian_source
//     above, the gateway's own addresses)
//   to neither the external IP nor a          drop gw_unknown_destination
//     floating IP
//   otherwise                                 kIp: to the flow cache in
//                                             the external network's zone
//                                             (VNI 0)
//
// What the flow cache then does: a reply of a translated connection, or a
// packet of an inbound floating-IP connection, is a hit; anything else
// walks kGatewayIn (gateway_in.h), which opens nothing to the external IP.
//
// Runs on any worker; learning is safe against the others.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class ExternalInNext : uint8_t { kIp, kArpReply, kCount };

class ExternalInStage final : public StageWith<ExternalInNext> {
 public:
  ExternalInStage() noexcept : StageWith({"ip", "arp_reply"}) {}
  std::string_view name() const override { return "external_in"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

// A source no packet from the outside may carry (RFC 1812 5.3.7): "this"
// network, loopback, multicast, reserved and broadcast. Host order.
inline bool martian_source(uint32_t ip) {
  const uint32_t first = ip >> 24;
  return first == 0 || first == 127 || first >= 224;
}

}  // namespace weft::dp
