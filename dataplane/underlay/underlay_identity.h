#pragma once
// The node's own address on the underlay, from node.yaml
// (Dataplane::make_snapshot): its VTEP address, subnet, optional next hop
// and the underlay port's MAC.
//
// Plain data; read-only once in a snapshot.

#include <rte_ether.h>

#include <cstdint>

namespace weft::dp {

struct UnderlayIdentity {
  uint32_t ip = 0;  // the VTEP address, host order; 0: unknown
  uint8_t prefix_len = 0;
  uint32_t next_hop = 0;  // 0: none configured
  rte_ether_addr mac{};   // of the underlay port

  bool on_link(uint32_t addr) const {
    const uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
    return (addr & mask) == (ip & mask);
  }
};

}  // namespace weft::dp
