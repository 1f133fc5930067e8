#pragma once
// GatewayTable: the gateway this node hosts (SPEC.md, `gateways`), as the
// gateway's stages read it:
//
//   external_ip     the SNAT address: every connection from a served
//                   network that has no floating IP leaves from it, with
//                   a port (or ICMP echo identifier) of its own
//   next_hop        where every packet out of the external port goes; its
//                   MAC is resolved by ARP into Snapshot::external_neighbors
//   served          the VNIs of the networks the gateway serves
//   floating        1:1 translations: an external address <-> one port's
//                   (VNI, IPv4), found by either side (by_external,
//                   by_port)
//
// A node hosts at most one gateway (it has one external port). A node
// that hosts none has `hosted` false, and the gateway's stages are never
// reached: no route leads to them and no external port feeds them.
//
// Built by build_gateway (gateway_builder.cc) on the main lcore after the
// routes; then read-only (rte_hash lookups without writers are safe from
// any number of workers).

#include <rte_byteorder.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dataplane/arp/arp_table.h"
#include "dataplane/tables/hash.h"

namespace weft::dp {

struct FloatingIp {
  rte_be32_t external_ip;
  uint32_t vni;
  rte_be32_t ip;  // the port's
};

struct GatewayTable {
  bool hosted = false;
  rte_be32_t external_ip = 0;
  uint32_t next_hop = 0;       // host order
  uint32_t next_hop_slot = 0;  // in Snapshot::external_neighbors
  std::vector<uint32_t> served;  // VNIs, sorted
  std::vector<FloatingIp> floating;
  HashPtr by_external;  // rte_be32_t external address -> index into floating
  HashPtr by_port;      // arp_key(vni, host-order ip) -> index into floating

  bool serves(uint32_t vni) const { return std::binary_search(served.begin(), served.end(), vni); }

  // The floating IP whose external address is `addr`, or null. One lookup:
  // for slow paths and the external port's check.
  const FloatingIp* floating_at(rte_be32_t addr) const noexcept {
    if (!by_external) return nullptr;
    void* data = nullptr;
    if (rte_hash_lookup_data(by_external.get(), &addr, &data) < 0) return nullptr;
    return &floating[data_index(data)];
  }
  // The floating IP a port at (vni, ip) holds, or null.
  const FloatingIp* floating_of(uint32_t vni, rte_be32_t ip) const noexcept {
    if (!by_port) return nullptr;
    const uint64_t key = arp_key(vni, rte_be_to_cpu_32(ip));
    void* data = nullptr;
    if (rte_hash_lookup_data(by_port.get(), &key, &data) < 0) return nullptr;
    return &floating[data_index(data)];
  }
  // One of the gateway's own external addresses.
  bool own_address(rte_be32_t addr) const noexcept {
    return hosted && (addr == external_ip || floating_at(addr) != nullptr);
  }
};

struct BuildContext;
// After build_routes: the node's gateway, if it hosts one. Refuses a
// gateway on a node without an external port (node.yaml `external:`) and
// an external port on a node that hosts no gateway.
void build_gateway(const BuildContext& ctx, GatewayTable& t);

}  // namespace weft::dp
