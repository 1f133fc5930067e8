#pragma once
// validate_tables: a NodeTables from the controller is untrusted input
// (issue 17, item 9). build_snapshot calls this first, before any feature
// builder allocates a table, and refuses the whole NodeTables at the first
// problem (build_fail, with what and where), so the snapshot in force
// stays. What it holds every table to:
//
//   sizes      the caps below, on every list and on what the builders
//              expand them to (security rules: remotes x port ranges), so
//              that a hostile controller cannot make a node allocate
//              without bound: the 32 MiB frame cap alone allows tens of
//              millions of entries
//   ranges     VNI 1..16777215, MTU 576..9000 (the policy's; DHCP's too),
//              prefix lengths <= 32 without host bits, ports 0..65535 with
//              lo <= hi, ICMP type and code <= 255, known protocols and
//              enum values, unicast non-zero MACs, names 1..kMaxNameLength
//   references a port's network (by name and VNI) and subnet; a security
//              group's network; every local port an L2 entry, a route or a
//              flood list names is a port of the tables; every remote VTEP
//              a peer (the builders check those, by the VTEP table);
//              a subnet's gateway inside it
//   duplicates peers (name, address), networks (name, VNI), subnets,
//              routes (prefix), flood list entries,
//              ports (name; address and MAC within a network), security
//              groups (network, name)
//
// What the builders already check themselves (duplicate VNIs, L2, ARP
// entries, the VTEP table's references) is left to them.
//
// Main lcore only; throws BuildError (build_support.h) and nothing else.

#include <cstddef>
#include <cstdint>

#include "common/proto/tables.pb.h"

namespace weft::dp {

// Caps on what one NodeTables may hold. Each is far above what a real
// policy needs of one node and low enough that the tables built from a
// NodeTables at every cap stay within a few hundred MiB.
struct TableLimits {
  static constexpr size_t kMaxNameLength = 253;
  static constexpr size_t kMaxPeers = 4096;  // the underlay neighbor table's size
  static constexpr size_t kMaxNetworks = 4096;
  static constexpr size_t kMaxSubnets = 256;          // per network
  static constexpr size_t kMaxRoutes = 4096;          // per network
  static constexpr size_t kMaxL2Entries = 65536;      // per network, and the ARP entries
  static constexpr size_t kMaxL2Total = 1 << 20;      // over every network, and the ARP entries
  static constexpr size_t kMaxNodePorts = 4096;       // this node's
  static constexpr size_t kMaxAllowedAddresses = 64;  // per port
  static constexpr size_t kMaxGroupsPerPort = 64;
  static constexpr size_t kMaxDns = 16;  // per subnet or DHCP lease
  static constexpr size_t kMaxSecurityGroups = 16384;
  static constexpr size_t kMaxRulesPerGroup = 4096;     // each direction
  static constexpr size_t kMaxRuleItems = 4096;         // remotes, port ranges of one rule
  static constexpr size_t kMaxExpandedRules = 1 << 20;  // remotes x ranges, over every group
  static constexpr size_t kMaxLoadBalancers = 1024;     // a Maglev table (128 KiB) each
  static constexpr size_t kMaxListeners = 256;          // per load balancer
  static constexpr size_t kMaxBackends = 1024;          // per load balancer
  static constexpr uint32_t kMaxBackendWeight = 255;
};

// build_fail() with the first problem; returns when the tables are sound.
void validate_tables(const proto::NodeTables& in);

}  // namespace weft::dp
