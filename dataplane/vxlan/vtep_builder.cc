#include "dataplane/tables/build_support.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/vxlan/vtep_table.h"

namespace weft::dp {

void build_vteps(const BuildContext& ctx, VtepTable& t) {
  if (static_cast<size_t>(ctx.in.peers_size()) > kMaxTableIndex) build_fail("more than 65535 peer VTEPs");
  t.by_ip = make_hash("vtep", sizeof(uint32_t), static_cast<size_t>(ctx.in.peers_size()));
  const UnderlayIdentity& ul = ctx.snap.underlay;
  for (const proto::PeerVtep& peer : ctx.in.peers()) {
    const uint32_t ip = peer.ip();
    if (ip == 0 || ip == ul.ip)
      build_fail("peer node '" + peer.node() + "' has the VTEP address " + ip_text(ip) +
                 (ip == 0 ? std::string() : ", which is this node's own"));
    Vtep v;
    v.node = peer.node();
    v.ip = ip;
    if (ul.on_link(ip)) {
      v.next_hop = ip;
    } else if (ul.next_hop != 0) {
      v.next_hop = ul.next_hop;
    } else {
      ctx.warn("peer node '" + peer.node() + "' (" + ip_text(ip) + ") is outside the underlay subnet " +
               ip_text(ul.ip) + "/" + std::to_string(ul.prefix_len) +
               " and node.yaml sets no underlay.next_hop: its ports are unreachable");
    }
    v.routable = v.next_hop != 0;
    if (v.routable) {
      v.neighbor = ctx.snap.neighbor_lease.track(ctx.snap.neighbors, v.next_hop);
      if (v.neighbor == NeighborTable::kNone)
        build_fail("the underlay neighbor table is full (" + std::to_string(NeighborTable::kCapacity) +
                   " addresses)");
    }
    v.outer = make_outer_template(ul.mac, ul.ip, ip);
    v.ip_partial_sum = outer_ip_partial_sum(v.outer);
    if (!add_unique(t.by_ip.get(), &ip, index_data(static_cast<uint32_t>(t.vteps.size()))))
      build_fail("peer VTEP " + ip_text(ip) + " (node '" + peer.node() + "') is listed twice");
    t.vteps.push_back(std::move(v));
  }
}

uint16_t vtep_index(const VtepTable& t, uint32_t ip, const std::string& where) {
  void* data = nullptr;
  if (rte_hash_lookup_data(t.by_ip.get(), &ip, &data) < 0)
    build_fail(where + " names VTEP " + ip_text(ip) + ", which is no peer of this node");
  return static_cast<uint16_t>(data_index(data));
}

}  // namespace weft::dp
