#include <algorithm>

#include "dataplane/l2/l2_table.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/vxlan/vtep_table.h"

namespace weft::dp {
namespace {

// Adds `v` unless it is there: a list the controller sends twice must not
// make a frame twice (or overrun a per-member array).
void add_once(std::vector<uint16_t>& list, uint16_t v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

void build_l2(const BuildContext& ctx, const VtepTable& vteps, L2Table& t) {
  size_t entries = 0;
  for (const proto::Network& n : ctx.in.networks()) entries += static_cast<size_t>(n.l2_size()) + 1;
  t.fdb = make_hash("fdb", sizeof(FdbKey), entries);
  uint32_t network = 0;
  for (const proto::Network& n : ctx.in.networks()) {
    const std::string where = "network '" + n.name() + "'";
    const uint32_t vni = n.vni();
    if (n.router_mac() != 0) {
      const FdbKey key = fdb_key(vni, ether_from_u64(n.router_mac()));
      if (!add_unique(t.fdb.get(), &key, fdb_data({FdbKind::kRouter, 0})))
        build_fail(where + ": router MAC " + mac_text(n.router_mac()) + " is also a port's");
    }
    for (const proto::L2Entry& e : n.l2()) {
      const std::string entry = where + ": L2 entry " + mac_text(e.mac());
      const rte_ether_addr mac = ether_from_u64(e.mac());
      if (rte_is_multicast_ether_addr(&mac)) build_fail(entry + " is a multicast MAC");
      FdbEntry fe{};
      switch (e.location().at_case()) {
        case proto::Location::kLocalPort:
          if (auto port = ctx.bound_port(e.location().local_port())) fe = {FdbKind::kLocal, *port};
          else fe = {FdbKind::kUnbound, 0};
          break;
        case proto::Location::kRemoteVtep:
          fe = {FdbKind::kRemote, vtep_index(vteps, e.location().remote_vtep(), entry)};
          t.members.push_back(uint32_t{fe.value} << 16 | network);
          break;
        case proto::Location::AT_NOT_SET:
          build_fail(entry + " has no location");
      }
      const FdbKey key = fdb_key(vni, mac);
      if (!add_unique(t.fdb.get(), &key, fdb_data(fe))) build_fail(entry + " appears twice");
    }
    FloodList flood;
    for (const std::string& name : n.flood_local_ports())
      if (auto port = ctx.bound_port(name)) add_once(flood.ports, *port);
    for (uint32_t ip : n.flood_remote_vteps()) add_once(flood.vteps, vtep_index(vteps, ip, where + ": flood list"));
    for (uint16_t v : flood.vteps) t.members.push_back(uint32_t{v} << 16 | network);
    // The node that hosts the network's gateway sends it the replies from
    // outside, whether or not it has a port in it.
    for (const proto::Route& r : n.routes())
      if (r.kind() == proto::Route::GATEWAY && r.location().at_case() == proto::Location::kRemoteVtep)
        t.members.push_back(uint32_t{vtep_index(vteps, r.location().remote_vtep(), where + ": gateway route")} << 16 |
                            network);
    t.flood.push_back(std::move(flood));
    ++network;
  }
  std::sort(t.members.begin(), t.members.end());
  t.members.erase(std::unique(t.members.begin(), t.members.end()), t.members.end());
}

}  // namespace weft::dp
