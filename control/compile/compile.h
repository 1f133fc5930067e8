#pragma once
// The policy compiler: (validated Model, node) -> that node's NodeTables
// (common/proto/tables.proto), the tables weftd forwards with.
//
//   auto model = load_policy({"policy/"}, diags);           // loader.h
//   proto::NodeTables t = compile_node(*model, "node-a");
//   std::string wire = serialize_tables(t);                 // tables_codec.h
//
// Pure and deterministic: no clock, no randomness, no global state; every
// list is sorted, so the same model gives the same message (and, serialized
// deterministically, the same bytes). Each node compiles independently of the
// others, in time proportional to what the node receives, not to the policy.
//
// `model` must come from load_policy()/validate() (it walks Model::index).
// A node the policy does not name gets tables holding only its name.
//
// Thread-safe: concurrent calls on one const Model are fine.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "control/model/model.h"
#include "common/proto/tables.pb.h"

namespace weft::policy {

proto::NodeTables compile_node(const Model& m, std::string_view node);
// Where each security rule and route of compile_node(m, node) was written
// in the policy (common/source_keys.h): for traces, kept apart from the
// tables. Empty for a node the policy does not name.
proto::NodeSources compile_sources(const Model& m, std::string_view node);

// Every node of the policy, by name.
std::map<std::string, proto::NodeTables> compile_all(const Model& m);

// The nodes whose tables may differ between two versions of a policy (both
// validated): a superset of those that do, found by comparing the versions
// entity by entity, so that a controller recompiles (and pushes to) only
// those. Sorted by name. Positions never count as a change.
std::vector<std::string> nodes_touched(const Model& before, const Model& after);

// Brings `tables`, which must be compile_all(before), to compile_all(after)
// by rebuilding only the parts of each touched node that the change can
// affect: for a port, the slice of its network on the nodes of that network
// (see changes.cc). Removes nodes that are gone. Returns nodes_touched().
std::vector<std::string> update_tables(const Model& before, const Model& after,
                                       std::map<std::string, proto::NodeTables>& tables);

// The DHCP lease handed to every port (docs/policy.md).
inline constexpr uint32_t kDhcpLeaseSeconds = 86400;

}  // namespace weft::policy
