#include <rte_cycles.h>

#include <algorithm>

#include "dataplane/gateway/gateway_table.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void build_gateway(const BuildContext& ctx, GatewayTable& t) {
  Snapshot& snap = ctx.snap;
  const bool bound = snap.external_port != kNoPort;
  if (ctx.in.gateways_size() == 0) {
    if (bound)
      build_fail("node.yaml binds an external port, but the policy hosts no gateway on node '" + ctx.in.node() +
                 "' (remove `external:` or place a gateway here)");
    return;
  }
  const proto::Gateway& g = ctx.in.gateways(0);
  const std::string where = "gateway '" + g.name() + "'";
  if (ctx.in.gateways_size() > 1)
    build_fail("node '" + ctx.in.node() + "' hosts " + std::to_string(ctx.in.gateways_size()) +
               " gateways; a node has one external port, so at most one");
  if (!bound)
    build_fail(where + " is hosted on node '" + ctx.in.node() +
               "', but node.yaml binds no external port (add `external: {device: ...}`)");
  if (g.external_ip() == 0 || g.external_next_hop() == 0) build_fail(where + " has no external_ip or next hop");

  t.hosted = true;
  t.external_ip = rte_cpu_to_be_32(g.external_ip());
  t.next_hop = g.external_next_hop();
  if (!snap.external_neighbors) snap.external_neighbors = NeighborTable::with_tsc_hz(rte_get_tsc_hz());
  t.next_hop_slot = snap.external_lease.track(snap.external_neighbors, t.next_hop);
  if (t.next_hop_slot == NeighborTable::kNone) build_fail(where + ": the external ARP cache is full");

  // The served networks this node carries; packets from the external
  // port go to them by the router's hosts table, so their MTU bounds what
  // the tunnel may carry from that port (VxlanEncap checks the ingress
  // port's MTU).
  uint32_t mtu = 0;
  for (const std::string& name : g.networks()) {
    for (const proto::Network& n : ctx.in.networks())
      if (n.name() == name) {
        t.served.push_back(n.vni());
        mtu = std::max(mtu, n.mtu());
      }
  }
  std::sort(t.served.begin(), t.served.end());
  snap.vnics.by_port[snap.external_port].mtu = mtu;

  const auto n = static_cast<size_t>(g.floating_ips_size());
  t.by_external = make_hash("gw_fip_ext", sizeof(rte_be32_t), n);
  t.by_port = make_hash("gw_fip_port", sizeof(uint64_t), n);
  for (const proto::FloatingIp& f : g.floating_ips()) {
    const std::string fip = where + ": floating IP " + ip_text(f.external_ip());
    if (f.external_ip() == 0 || f.ip() == 0) build_fail(fip + " has no address");
    if (f.external_ip() == g.external_ip()) build_fail(fip + " is the SNAT address");
    if (!t.serves(f.vni())) {
      ctx.warn(fip + ": port " + f.port() + "'s network is not one the gateway serves; ignored");
      continue;
    }
    const auto idx = static_cast<uint32_t>(t.floating.size());
    t.floating.push_back({rte_cpu_to_be_32(f.external_ip()), f.vni(), rte_cpu_to_be_32(f.ip())});
    const rte_be32_t ext = t.floating.back().external_ip;
    const uint64_t port = arp_key(f.vni(), f.ip());
    if (!add_unique(t.by_external.get(), &ext, index_data(idx))) build_fail(fip + " appears twice");
    if (!add_unique(t.by_port.get(), &port, index_data(idx)))
      build_fail(fip + ": port " + f.port() + " holds another floating IP already");
  }
}

}  // namespace weft::dp
