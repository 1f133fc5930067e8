#pragma once
// VtepTable: the peer nodes' VTEPs this node tunnels to and accepts tunnels
// from, by index (PktMeta::tunnel, flood lists, L2 entries), with the outer
// header template encap copies in front of every frame, and the address ->
// index hash that is decap's allow-set.
//
// Built by build_vteps (vtep_builder.cc) on the main lcore, then read-only.

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables/hash.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {

struct Vtep {
  VxlanOuterHeader outer;       // make_outer_template(): copied in front of every frame
  uint32_t ip_partial_sum = 0;  // outer_ip_partial_sum(outer)
  uint32_t ip = 0;              // host order
  uint32_t next_hop = 0;        // the underlay neighbor packets go to: ip, or the next hop
  uint32_t neighbor = 0;        // its NeighborTable slot
  bool routable = false;        // false: off the underlay subnet and no next hop configured
  std::string node;
};

struct VtepTable {
  HashPtr by_ip;  // uint32_t IPv4 (host order) -> index_data(index)
  std::vector<Vtep> vteps;
};

struct BuildContext;
void build_vteps(const BuildContext& ctx, VtepTable& t);
// The index of peer VTEP `ip`; build_fail() naming `where` when it is none.
uint16_t vtep_index(const VtepTable& t, uint32_t ip, const std::string& where);

}  // namespace weft::dp
