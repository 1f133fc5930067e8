#pragma once
// kPortSecurity: a frame from a vNIC must come from the port's own
// addresses (SPEC: "frames with a source MAC or IP the port does not own
// are dropped"), checked against the snapshot's Vnic of the ingress
// port:
//
//   Ethernet source          == the port's MAC              else portsec_mac
//   IPv4 source              == the port's IP, or inside one
//                               of its allowed_addresses    else portsec_ip
//     except a DHCP client's 0.0.0.0:68 -> :67, before it has an address
//   ARP sender MAC / IP      likewise (sender IP 0.0.0.0 is an ARP probe,
//                               RFC 5227, and allowed)      else portsec_mac / portsec_ip
//   IPv6                     ports own no IPv6 address      portsec_ipv6
//   802.1Q/802.1ad tagged    a vNIC carries one network     portsec_vlan
//   UDP 67 -> 68             a VM is no DHCP server         portsec_dhcp_server
//
// A frame that passes gets its network's VNI in PktMeta::vni and goes on to
// ARP suppression (kArp), the node's DHCP server (kDhcp: any UDP to port
// 67, so that no DHCP from a VM reaches anyone else) or the flow cache
// (kIp: everything else).
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class PortSecurityNext : uint8_t { kIp, kArp, kDhcp, kCount };

class PortSecurityStage final : public StageWith<PortSecurityNext> {
 public:
  PortSecurityStage() noexcept : StageWith({"ip", "arp", "dhcp"}) {}

  std::string_view name() const override { return "port_security"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
