#pragma once
// Inside the compiler (not for other modules): one node's tables built in
// parts, so that a change rebuilds only the parts it touches (changes.cc).
//
// A node's tables are its node-wide part (name, address, peers, QoS
// policies, gateways) and one slice per network present on it (the network,
// the node's ports in it, their security groups in it, its load balancers).
// Slices of different networks share no entry, so one can be removed and
// rebuilt alone; sort_tables() restores the documented order afterwards.
//
// `m` must be validated (its index is walked). Thread-safe on a const Model.

#include <cstdint>
#include <string_view>

#include "control/model/model.h"
#include "common/proto/tables.pb.h"

namespace weft::policy {

// The whole tables of `node` (an index into m.nodes).
proto::NodeTables build_node_tables(const Model& m, uint32_t node);

// Where the entries of build_node_tables(m, node) came from (compile.h,
// compile_sources).
proto::NodeSources build_node_sources(const Model& m, uint32_t node);

// Replaces the node-wide part of `t`.
void rebuild_node_wide(const Model& m, uint32_t node, proto::NodeTables& t);
// Removes every entry of the slice of the network named `network`.
void remove_network_slice(std::string_view network, proto::NodeTables& t);
// Appends the slice of `network` (an index into m.networks) when the network
// is present on the node; nothing otherwise.
void add_network_slice(const Model& m, uint32_t node, uint32_t network, proto::NodeTables& t);
// Sorts the lists slices append to.
void sort_tables(proto::NodeTables& t);

}  // namespace weft::policy
