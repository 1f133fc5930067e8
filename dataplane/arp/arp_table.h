#pragma once
// ArpTable: the addresses ARP suppression answers for, per network: (VNI,
// IPv4) -> the MAC to answer with: a port's own, or the network's router
// MAC for a subnet gateway or a load balancer's VIP.
//
// Built by build_arp (arp_builder.cc) on the main lcore, then read-only;
// kArpResponder looks a burst up at once (rte_hash_lookup_bulk_data).

#include <cstdint>

#include "dataplane/tables/hash.h"

namespace weft::dp {

// (VNI, IPv4 in host order).
inline uint64_t arp_key(uint32_t vni, uint32_t ip) { return (uint64_t{vni} << 32) | ip; }

struct ArpTable {
  HashPtr by_ip;  // arp_key() -> mac_data()
};

struct BuildContext;
void build_arp(const BuildContext& ctx, ArpTable& t);

}  // namespace weft::dp
