#pragma once
// VnicTable: what each vNIC port of this node is in the policy, by DPDK
// port id: the network it joins and the addresses it owns, which port
// security holds its frames to, and its subnet's gateway, which the
// distributed router answers and speaks (ICMP errors) from.
//
// Built by build_vnics (vnic_builder.cc) on the main lcore, then read-only.

#include <rte_byteorder.h>
#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/stats/counters.h"

namespace weft::dp {

// Addresses in network byte order: port security compares them with packet
// fields as they are.
struct Vnic {
  struct Allowed {
    rte_be32_t addr;  // network address, masked
    rte_be32_t mask;
  };
  bool in_policy = false;  // false: bound in node.yaml but not a port of the policy
  uint16_t network = 0;    // NetworkTable index
  uint32_t vni = 0;
  uint32_t mtu = 0;        // the network's
  rte_ether_addr mac{};
  rte_be32_t ip = 0;
  rte_be32_t gateway = 0;  // its subnet's gateway address; 0: unknown
  std::vector<Allowed> allowed;  // allowed_addresses
};

struct VnicTable {
  std::array<Vnic, kMaxPorts> by_port{};
};

struct BuildContext;
struct NetworkTable;
// After build_networks: a port names its network.
void build_vnics(const BuildContext& ctx, const NetworkTable& networks, VnicTable& t);

}  // namespace weft::dp
