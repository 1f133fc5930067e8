#pragma once
// NetworkTable: the networks (tenant VPCs) this node carries, by index:
// what every overlay stage needs to know of one (its VNI, MTU, router MAC),
// and the VNI -> index hash that decap and flood look frames up in.
// Feature tables keyed by network (flood lists, FIBs) use the same index.
//
// Built by build_networks (network_builder.cc) on the main lcore, then
// read-only (snapshot.h).

#include <rte_ether.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables/hash.h"

namespace weft::dp {

struct Network {
  std::string name;
  uint32_t vni = 0;
  uint32_t mtu = 0;  // the largest inner IP packet (frame minus its Ethernet header)
  rte_ether_addr router_mac{};
};

struct NetworkTable {
  HashPtr by_vni;  // uint32_t VNI -> index_data(index)
  std::vector<Network> networks;
};

struct BuildContext;
void build_networks(const BuildContext& ctx, NetworkTable& t);

}  // namespace weft::dp
