#pragma once
// The node's forwarding state as one immutable object: what every stage reads
// through StageCtx::snap. The main lcore builds a complete new Snapshot off
// the fast path and hands it to SnapshotPublisher (publisher.h), which swaps
// one pointer; a published Snapshot is never modified again, and is freed
// only after every worker has passed a quiescent state.
//
// Adding a table: the feature's folder holds the table
// (`<feature>_table.h`, owning its memory: HashPtr and the like) and its
// builder (`<feature>_builder.cc`, a function of the BuildContext,
// tables/build_support.h); add a member here and one call to
// build_snapshot (snapshot_builder.cc). Start new snapshots from
// Dataplane::make_snapshot(), which fills the port map.
//
// Workers: read-only, for the duration of one burst. Main lcore: builds.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/acl/security_group_table.h"
#include "dataplane/arp/arp_table.h"
#include "dataplane/dhcp/dhcp_table.h"
#include "dataplane/gateway/external_identity.h"
#include "dataplane/gateway/gateway_table.h"
#include "dataplane/l3/route_table.h"
#include "dataplane/l2/l2_table.h"
#include "dataplane/lb/lb_table.h"
#include "dataplane/overlay/network_table.h"
#include "dataplane/portsec/vnic_table.h"
#include "dataplane/qos/qos_table.h"
#include "dataplane/rewrite/rewrite_table.h"
#include "dataplane/stats/counters.h"
#include "dataplane/underlay/neighbor_table.h"
#include "dataplane/underlay/underlay_identity.h"
#include "dataplane/vxlan/vtep_table.h"
#include "vnic/binding.h"

namespace weft::proto {
class NodeTables;   // common/proto/tables.proto
class NodeSources;
}  // namespace weft::proto

namespace weft::dp {

inline constexpr uint16_t kNoPort = UINT16_MAX;

enum class PortRole : uint8_t { kUnused = 0, kUnderlay, kVnic, kExternal };

// How a port is attached, as node stats and metrics name it.
inline std::string_view port_kind_name(PortRole role, VnicKind kind) {
  if (role == PortRole::kUnderlay) return "underlay";
  if (role == PortRole::kExternal) return "external";
  return vnic_kind_name(kind);
}

// What one DPDK port is to this node.
struct PortEntry {
  PortRole role = PortRole::kUnused;
  VnicKind kind = VnicKind::kDpdk;  // how it is attached
  std::string name;                 // policy port name; "underlay", "external"
};

struct Snapshot {
  // Set by the publisher: 1 for the first snapshot, +1 per publication.
  uint32_t generation = 0;
  // Version of the policy the tables were compiled from; 0: none applied
  // yet, and every packet is dropped as no_policy.
  uint64_t policy_version = 0;

  uint16_t underlay_port = kNoPort;
  std::array<PortEntry, kMaxPorts> ports{};  // by DPDK port id
  UnderlayIdentity underlay;                  // the node's VTEP address and MAC

  // The underlay ARP cache: not part of the immutable tables, but shared by
  // every snapshot of the Dataplane (see neighbor_table.h).
  std::shared_ptr<NeighborTable> neighbors;
  // The slots of `neighbors` this snapshot's tables use (Vtep::neighbor),
  // released when the snapshot is freed.
  NeighborLease neighbor_lease;
  // Filled by build_snapshot (snapshot_builder.h) from NodeTables, each by
  // its feature's builder.
  NetworkTable networks;               // overlay/network_table.h
  VtepTable vteps;                     // vxlan/vtep_table.h
  L2Table l2;                          // l2/l2_table.h
  ArpTable arp;                        // arp/arp_table.h
  VnicTable vnics;                     // portsec/vnic_table.h
  SecurityGroupTable security_groups;  // acl/security_group_table.h
  RewriteTable rewrites;               // rewrite/rewrite_table.h: filled by the builders that route
  RouteTable routes;                   // l3/route_table.h
  DhcpTable dhcp;                      // dhcp/dhcp_table.h
  QosTable qos;                        // qos/qos_table.h

  // What the tables were built from, for live traces (dataplane/trace/):
  // the compiled tables and, when this node has them (standalone), where
  // their entries were written in the policy. Set by whoever publishes;
  // never read by a worker.
  std::shared_ptr<const proto::NodeTables> compiled;
  std::shared_ptr<const proto::NodeSources> sources;
  LbTable lbs;                         // lb/lb_table.h
  // Input to the build, not a table: the load balancers' backends whose
  // health checks failed, as the node knows them (lb/lb_health.h), set in
  // the base snapshot the builder starts from.
  LbHealth lb_down;

  // The gateway's external network (gateway/): the port node.yaml binds
  // (kNoPort: none), its identity, the ARP cache of its next hop (shared
  // by every snapshot, as `neighbors`) and the gateway the policy hosts.
  uint16_t external_port = kNoPort;
  ExternalIdentity external;
  std::shared_ptr<NeighborTable> external_neighbors;
  NeighborLease external_lease;
  GatewayTable gateway;                // gateway/gateway_table.h

  bool has_policy() const { return policy_version != 0; }
};

}  // namespace weft::dp
