#pragma once
// The gateway node's own side of the external network, from node.yaml
// (`external:`, Dataplane::make_snapshot): the external port's MAC, its
// optional 802.1Q tag, and the SNAT port range. What the policy says about
// the gateway (its addresses, floating IPs) is in GatewayTable.
//
// Plain data; read-only once in a snapshot.

#include <rte_ether.h>

#include <cstdint>

namespace weft::dp {

struct ExternalIdentity {
  static constexpr uint16_t kDefaultPortLo = 1024;
  static constexpr uint16_t kDefaultPortHi = 65535;

  rte_ether_addr mac{};  // of the external port
  uint16_t vlan = 0;     // 802.1Q VLAN id on the external port; 0: untagged
  // The TCP/UDP ports and ICMP echo identifiers SNAT hands out, inclusive.
  uint16_t port_lo = kDefaultPortLo;
  uint16_t port_hi = kDefaultPortHi;
};

}  // namespace weft::dp
