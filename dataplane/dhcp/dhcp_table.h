#pragma once
// DhcpTable: what the node's DHCP server answers each of its vNICs with, by
// DPDK port id: the port's lease, compiled from the policy (a port's
// address is policy, so there is no lease database and no allocation).
// A port whose subnet has `dhcp: false` has none, and its DHCP is dropped.
//
// Built by build_dhcp (dhcp_builder.cc) on the main lcore, then read-only.

#include <array>

#include "dataplane/dhcp/dhcp_server.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

struct DhcpTable {
  std::array<DhcpLease, kMaxPorts> lease{};
  std::array<bool, kMaxPorts> enabled{};
};

struct BuildContext;
void build_dhcp(const BuildContext& ctx, DhcpTable& t);

}  // namespace weft::dp
