#pragma once
// NodeTables' security groups (tables.proto: SecurityGroup, and each Port's
// security_groups and egress_mode) -> a SecurityGroupTable. Called by
// build_snapshot (tables/snapshot_builder.h) for every new snapshot.
//
//   if (!build_security_groups(tables, bound_ports, snap.security_groups, error)) ...
//
// `bound_ports` maps policy port names to the DPDK ports node.yaml binds
// them to; a port bound to nothing carries no traffic and is left out.
// Ports of one network with the same groups share a class. A port's rules
// are the ingress rules of all its groups, and, unless its egress_mode
// allows all, the egress rules of those groups that restrict egress.
// Each SecurityRule becomes one classifier rule per (remote prefix, port
// range) pair, all with the rule's id; remote groups arrive resolved to
// their members' /32s. A TCP/UDP rule's ranges are destination ports; an
// ICMP rule without a type admits every type, one without a code every
// code; `any` admits every protocol, ports and types. A rule whose remote
// list is empty (a remote group without members) admits nothing.
//
// Main lcore. False (and `error`) when a port names a group the tables do
// not hold, when there are more than 65535 classes, or when DPDK cannot
// build the tries.

#include <cstdint>
#include <map>
#include <string>

#include "common/proto/tables.pb.h"
#include "dataplane/acl/security_group_table.h"

namespace weft::dp {

bool build_security_groups(const proto::NodeTables& tables,
                           const std::map<std::string, uint16_t>& bound_ports,
                           SecurityGroupTable& out, std::string& error);

}  // namespace weft::dp
