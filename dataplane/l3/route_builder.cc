#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include <atomic>
#include <cstdio>
#include <map>

#include "dataplane/arp/arp_table.h"
#include "dataplane/l3/route_table.h"
#include "dataplane/overlay/network_table.h"
#include "dataplane/rewrite/rewrite_table.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/vxlan/vtep_table.h"

namespace weft::dp {
namespace {

FibPtr make_fib(size_t routes) {
  static std::atomic<uint32_t> serial{0};
  char name[RTE_MEMZONE_NAMESIZE];
  std::snprintf(name, sizeof name, "weft_fib_%u", serial.fetch_add(1));
  rte_fib_conf conf{};
  conf.type = RTE_FIB_DUMMY;
  conf.default_nh = RouteTable::kNoRoute;
  conf.max_routes = static_cast<int>(std::max<size_t>(routes, 1));
  conf.rib_ext_sz = 0;
  rte_fib* fib = rte_fib_create(name, static_cast<int>(rte_socket_id()), &conf);
  if (fib == nullptr) build_fail(std::string("cannot create a FIB: ") + rte_strerror(rte_errno));
  return FibPtr(fib);
}

// Where a port of the network is, from the network's L2 entries.
FdbEntry locate(const BuildContext& ctx, const VtepTable& vteps, const proto::Location& at,
                const std::string& where) {
  switch (at.at_case()) {
    case proto::Location::kLocalPort:
      if (auto port = ctx.bound_port(at.local_port())) return {FdbKind::kLocal, *port};
      return {FdbKind::kUnbound, 0};
    case proto::Location::kRemoteVtep:
      return {FdbKind::kRemote, vtep_index(vteps, at.remote_vtep(), where)};
    case proto::Location::AT_NOT_SET:
      break;
  }
  build_fail(where + " has no location");
}

uint16_t rewrite_to(RewriteTable& rewrites, const Network& net, uint64_t mac, const std::string& where) {
  RewriteEntry r;
  r.src_mac = net.router_mac;
  r.dst_mac = ether_from_u64(mac);
  r.mtu = static_cast<uint16_t>(std::min<uint32_t>(net.mtu, UINT16_MAX));
  r.flags = kRewriteMacs | kRewriteTtl;
  const uint16_t idx = rewrites.add(r);
  if (idx == RewriteTable::kNone) build_fail(where + ": more than 65535 routed destinations");
  return idx;
}

// The default route through the network's gateway. To another node: a
// routed frame for the router MAC there (whose router hands it to the
// gateway), tunnelled. On the gateway's own node: out of the external
// port, one hop off the TTL of a local VM's packet; the MACs are the
// external port's, written as it leaves (gateway/external_out.h).
RouteEntry gateway_route(const BuildContext& ctx, const VtepTable& vteps, RewriteTable& rewrites, const Network& net,
                         const proto::Route& r, const std::string& where) {
  RouteEntry e;
  e.kind = RouteKind::kGateway;
  if (r.location().at_case() != proto::Location::AT_NOT_SET) {
    e.hop = locate(ctx, vteps, r.location(), where + " via gateway " + r.gateway());
    e.rewrite = rewrite_to(rewrites, net, ether_to_u64(net.router_mac), where);
    return e;
  }
  const uint16_t ext = ctx.snap.external_port;
  e.hop = ext == kNoPort ? FdbEntry{FdbKind::kUnbound, 0} : FdbEntry{FdbKind::kLocal, ext};
  RewriteEntry ttl;
  ttl.mtu = static_cast<uint16_t>(std::min<uint32_t>(net.mtu, UINT16_MAX));
  ttl.flags = kRewriteTtl;
  e.rewrite = rewrites.add(ttl);
  if (e.rewrite == RewriteTable::kNone) build_fail(where + ": more than 65535 routed destinations");
  return e;
}

}  // namespace

void build_routes(const BuildContext& ctx, const NetworkTable& networks, const VtepTable& vteps,
                  RewriteTable& rewrites, RouteTable& t) {
  size_t hosts = 0;
  for (const proto::Network& n : ctx.in.networks()) hosts += static_cast<size_t>(n.arp_size());
  t.hosts = make_hash("hosts", sizeof(uint64_t), hosts);
  for (size_t ni = 0; ni < static_cast<size_t>(ctx.in.networks_size()); ++ni) {
    const proto::Network& n = ctx.in.networks(static_cast<int>(ni));
    const Network& net = networks.networks[ni];
    const std::string where = "network '" + n.name() + "'";

    // The addresses of the network: each port's location by its MAC.
    std::map<uint64_t, const proto::L2Entry*> by_mac;
    for (const proto::L2Entry& e : n.l2()) by_mac[e.mac()] = &e;
    for (const proto::ArpEntry& a : n.arp()) {
      HostEntry h{FdbKind::kRouter, 0, 0};
      if (a.owner() == proto::ArpEntry::PORT) {
        auto it = by_mac.find(a.mac());
        if (it == by_mac.end()) build_fail(where + ": address " + ip_text(a.ip()) + " has no L2 entry");
        const FdbEntry at = locate(ctx, vteps, it->second->location(), where + ": port " + it->second->port());
        h = {at.kind, at.value, rewrite_to(rewrites, net, a.mac(), where)};
      } else if (a.owner() != proto::ArpEntry::ROUTER) {
        continue;  // a load balancer's VIP: not a host of its own
      }
      const uint64_t key = arp_key(n.vni(), a.ip());
      if (!add_unique(t.hosts.get(), &key, host_data(h)))
        build_fail(where + ": address " + ip_text(a.ip()) + " appears twice");
    }

    FibPtr fib = make_fib(static_cast<size_t>(n.routes_size()));
    for (const proto::Route& r : n.routes()) {
      const std::string route = where + ": route " + ip_text(r.prefix().addr()) + "/" + std::to_string(r.prefix().len());
      if (r.prefix().len() > 32) build_fail(route + ": prefix length above 32");
      RouteEntry e;
      switch (r.kind()) {
        case proto::Route::CONNECTED:
          e.kind = RouteKind::kConnected;
          if (r.prefix().len() <= 30) e.broadcast = r.prefix().addr() | (UINT32_MAX >> r.prefix().len());
          break;
        case proto::Route::STATIC:
          e.kind = RouteKind::kStatic;
          e.hop = locate(ctx, vteps, r.location(), route + " via " + ip_text(r.next_hop_ip()));
          e.rewrite = rewrite_to(rewrites, net, r.next_hop_mac(), route);
          e.next_hop = r.next_hop_ip();
          break;
        case proto::Route::GATEWAY:
          e = gateway_route(ctx, vteps, rewrites, net, r, route);
          break;
        default:
          continue;
      }
      if (t.routes.size() >= RouteTable::kNoRoute) build_fail(route + ": too many routes");
      const int rc = rte_fib_add(fib.get(), r.prefix().addr(), static_cast<uint8_t>(r.prefix().len()),
                                 static_cast<uint64_t>(t.routes.size()));
      if (rc < 0) build_fail(route + ": " + rte_strerror(-rc));
      t.routes.push_back(e);
      t.origins.push_back({static_cast<uint16_t>(ni), r.prefix().addr(), static_cast<uint8_t>(r.prefix().len())});
    }
    t.fib.push_back(std::move(fib));
  }
}

}  // namespace weft::dp
