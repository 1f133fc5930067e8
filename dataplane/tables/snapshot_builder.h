#pragma once
// NodeTables (the policy compiled for this node, common/proto/tables.proto)
// -> the lookup tables of a new Snapshot. The one code path from tables to
// forwarding state: the controller agent's apply callback and weftd
// --policy (standalone) both call it.
//
//   std::string error;
//   std::vector<std::string> warnings;
//   auto snap = build_snapshot(tables, dp.make_snapshot(), error, &warnings);
//   if (!snap) return error;            // nothing changed: the old tables stay
//   snap->policy_version = version;
//   dp.publish(std::move(snap));
//
// `base` carries what only the node knows (Dataplane::make_snapshot): the
// DPDK port map with each vNIC's policy port name, the underlay address and
// MAC, and the NeighborTable every snapshot shares (a test may leave it
// null: the builder makes one). Each feature's builder then adds its
// table (`<feature>/<feature>_builder.cc`, in dependency order: networks
// and VTEPs first, the tables that name them after), and the same object
// is returned.
//
// Errors (returns null, `error` says why, nothing is published), for
// tables no dataplane could forward with:
//   - tables without a VTEP address (the policy does not name this node),
//     or one other than node.yaml's underlay address;
//   - a peer on this node's own VTEP address, or twice;
//   - a VNI of 0 or above 2^24-1, or twice; an MTU below 68 (RFC 791);
//   - an L2 entry with a multicast MAC, without a location, twice in its
//     network, or naming a VTEP that is no peer; an ARP entry twice;
//   - a flood list naming a VTEP that is no peer; a port in a network the
//     tables do not hold;
//   - a port in a security group the tables do not hold (sg_builder.h);
//   - more than 65535 networks or peers, a full NeighborTable, or an
//     rte_hash or rte_acl trie that cannot be made (memory).
// Warnings (the snapshot is built; each is one line for the log), for a
// mismatch between the policy and node.yaml that must not hold every other
// port of the node hostage:
//   - a port of this node that node.yaml binds to no vNIC (the VM may not
//     be there yet): frames for it are dropped as l2_port_unbound;
//   - a vNIC of node.yaml that is no port of this node in the policy (the
//     port was removed, or the name is wrong): its frames are dropped as
//     port_not_in_policy;
//   - a peer VTEP off the underlay subnet while node.yaml names no next
//     hop: frames for it are dropped as vxlan_no_underlay_route.
//
// Main lcore only, after rte_eal_init (rte_hash_create); never throws.

#include <memory>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

std::unique_ptr<Snapshot> build_snapshot(const proto::NodeTables& tables,
                                         std::unique_ptr<Snapshot> base, std::string& error,
                                         std::vector<std::string>* warnings = nullptr);

}  // namespace weft::dp
