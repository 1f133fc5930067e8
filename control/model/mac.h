#pragma once
// The MAC addresses Weft derives so that operators need not write them.
//
//   port MAC    02:HH:a:b:c:d   HH = one byte of FNV-1a over the network name,
//                               a.b.c.d = the port's IPv4 address
//   router MAC  0a:00:00:VV:VV:VV   VV = the network's 24-bit VNI
//
// Both are locally administered unicast. A port MAC is unique within its
// network because its IP is; the two first octets differ, so a derived port
// MAC never equals a router MAC. Explicit MACs are checked against both by
// validate(). The scheme is part of the policy language (docs/policy.md):
// changing it would change every VM's MAC.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string_view>

#include "common/net.h"

namespace weft::policy {

Mac derived_port_mac(std::string_view network, uint32_t ip);
Mac router_mac(uint32_t vni);

// The compiled tables' form of a MAC (common/net.h), for the compiler.
using weft::mac_from_u64;
using weft::mac_to_u64;

}  // namespace weft::policy
