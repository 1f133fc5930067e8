#pragma once
// RouteTable: the distributed router of every network this node carries
// (each network is one routing domain, a VRF): what kRouter looks a packet
// for the router MAC up in.
//
//   fib     per network (NetworkTable index): an rte_fib of the network's
//           connected subnets and static routes, longest prefix first; its
//           next hop is an index into `routes`
//   routes  what a prefix leads to: a connected subnet (the destination is
//           looked up in `hosts`), or a static route's next-hop port,
//           resolved when the table is built to its location and rewrite
//   hosts   (VNI, IPv4) -> where that address lives in its network: a
//           port's location (local vNIC, remote VTEP, unbound) with the
//           rewrite that delivers to it, or the router itself (a subnet
//           gateway, which answers ping)
//
// A FIB lookup happens only on a flow-cache miss: the cache records the
// route's result (output, tunnel, rewrite), so a hit pays no FIB. That is
// why each FIB is RTE_FIB_DUMMY, backed by an rte_rib whose memory grows
// with the routes, rather than DIR24_8, whose 2^24-entry first level would
// take 16-64 MiB per network whatever its routes.
//
// Built by build_routes (route_builder.cc) on the main lcore, after the
// networks, VTEPs and L2 tables; then read-only (rte_fib lookups and
// rte_hash lookups without writers are safe from any number of workers).

#include <rte_fib.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/l2/l2_table.h"
#include "dataplane/tables/hash.h"

namespace weft::dp {

struct FibDeleter {
  void operator()(rte_fib* f) const noexcept { rte_fib_free(f); }
};
using FibPtr = std::unique_ptr<rte_fib, FibDeleter>;

// kGateway: the network's default route through its gateway (gateway/):
// to the gateway node's VTEP, or, on the node that hosts it, out of the
// external port, where kNat translates it.
enum class RouteKind : uint8_t { kConnected, kStatic, kGateway };

struct RouteEntry {
  RouteKind kind = RouteKind::kConnected;
  FdbEntry hop{};        // kStatic: where the next-hop port is; kGateway: the gateway
                         // node's VTEP (kRemote), or the external port (kLocal)
  uint16_t rewrite = 0;  // kStatic, kGateway: the RewriteTable entry that delivers to it
  uint32_t next_hop = 0;  // kStatic: the next-hop port's address, host order
  // kConnected: the subnet's directed broadcast address (host order), which
  // draws no ICMP error (RFC 1812 4.3.2.7); 0 for a /31 or /32, which have none.
  uint32_t broadcast = 0;
};

// A `hosts` entry: where an address of a network is, and how to get there.
struct HostEntry {
  FdbKind kind;      // kLocal, kRemote, kUnbound; kRouter: the router's own address
  uint16_t value;    // as FdbEntry::value
  uint16_t rewrite;  // the RewriteTable entry that delivers to it
};

inline void* host_data(HostEntry h) {
  return reinterpret_cast<void*>(uintptr_t{static_cast<uint8_t>(h.kind)} << 32 | uintptr_t{h.rewrite} << 16 |
                                 h.value);
}
inline HostEntry host_entry(const void* data) {
  const auto v = reinterpret_cast<uintptr_t>(data);
  return {static_cast<FdbKind>(v >> 32), static_cast<uint16_t>(v), static_cast<uint16_t>(v >> 16)};
}

// Which route of the compiled tables a `routes` entry is, for traces
// (dataplane/trace/); kept beside `routes`, which workers read, not in it.
struct RouteOrigin {
  uint16_t network = 0;  // NetworkTable index
  uint32_t addr = 0;     // the prefix, host order
  uint8_t len = 0;
};

struct RouteTable {
  static constexpr uint64_t kNoRoute = UINT32_MAX;  // the FIBs' default next hop

  std::vector<FibPtr> fib;  // by NetworkTable index
  std::vector<RouteEntry> routes;
  std::vector<RouteOrigin> origins;  // by `routes` index
  HashPtr hosts;  // arp_key(vni, ip) -> host_data()
};

// The route the FIB of network `net` (NetworkTable index) gives address
// `ip` (host order); null for none. One lookup: for slow paths.
inline const RouteEntry* fib_route(const RouteTable& t, uint32_t net, uint32_t ip) noexcept {
  if (net >= t.fib.size()) return nullptr;
  uint64_t hop = RouteTable::kNoRoute;
  rte_fib_lookup_bulk(t.fib[net].get(), &ip, &hop, 1);
  return hop < t.routes.size() ? &t.routes[hop] : nullptr;
}

struct BuildContext;
struct NetworkTable;
struct VtepTable;
class RewriteTable;
// After build_networks and build_vteps: adds the rewrites it needs.
void build_routes(const BuildContext& ctx, const NetworkTable& networks, const VtepTable& vteps,
                  RewriteTable& rewrites, RouteTable& t);

}  // namespace weft::dp
