#include "dataplane/tables/snapshot_builder.h"

#include <rte_cycles.h>

#include <exception>

#include "common/net.h"
#include "dataplane/acl/sg_builder.h"
#include "dataplane/tables/build_support.h"
#include "dataplane/tables/validate_tables.h"

namespace weft::dp {
namespace {

void check_identity(const proto::NodeTables& in, const Snapshot& snap) {
  const uint32_t own = snap.underlay.ip;
  if (in.vtep_ip() == 0) build_fail("the policy does not name node '" + in.node() + "'");
  if (in.vtep_ip() != own)
    build_fail("the policy gives node '" + in.node() + "' the VTEP address " + ip_text(in.vtep_ip()) +
               ", but its underlay address is " + (own == 0 ? std::string("unset") : ip_text(own)) +
               " (node.yaml underlay.ip)");
}

// Each feature's table, in the order their references need.
void build_tables(const proto::NodeTables& in, Snapshot& snap, std::vector<std::string>* warnings) {
  check_identity(in, snap);
  validate_tables(in);  // untrusted: whole, before any table is allocated
  BuildContext ctx{in, snap, warnings, {}};
  for (uint16_t port = 0; port < kMaxPorts; ++port)
    if (snap.ports[port].role == PortRole::kVnic) ctx.bound[snap.ports[port].name] = port;
  build_vteps(ctx, snap.vteps);
  build_networks(ctx, snap.networks);
  build_l2(ctx, snap.vteps, snap.l2);
  build_arp(ctx, snap.arp);
  build_vnics(ctx, snap.networks, snap.vnics);
  build_routes(ctx, snap.networks, snap.vteps, snap.rewrites, snap.routes);
  build_dhcp(ctx, snap.dhcp);
  build_qos(ctx, snap.qos);
  build_load_balancers(ctx, snap.lb_down, snap.lbs);
  build_gateway(ctx, snap.gateway);
  std::string error;
  if (!build_security_groups(in, ctx.bound, snap.security_groups, error)) build_fail(error);
}

}  // namespace

std::unique_ptr<Snapshot> build_snapshot(const proto::NodeTables& tables,
                                         std::unique_ptr<Snapshot> base, std::string& error,
                                         std::vector<std::string>* warnings) {
  if (!base) {
    error = "build_snapshot: no base snapshot";
    return nullptr;
  }
  try {
    if (!base->neighbors) base->neighbors = NeighborTable::with_tsc_hz(rte_get_tsc_hz());
    build_tables(tables, *base, warnings);
    return base;
  } catch (const BuildError& e) {
    error = e.why;
  } catch (const std::exception& e) {
    error = std::string("build_snapshot: ") + e.what();
  }
  return nullptr;
}

}  // namespace weft::dp
