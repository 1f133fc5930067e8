#pragma once
// NodeTables on the wire and for machines.
//
// serialize_tables() is protobuf's deterministic serialization: the same
// tables give the same bytes, so the controller can compare two versions (or
// a node what it runs with what it receives) with a byte comparison.
// tables_to_json() is protobuf's JSON mapping with the .proto field names,
// every field printed even at its default, so the keys are stable: addresses
// are numbers (host order), MACs decimal strings (uint64), enums names.
//
// Pure functions; thread-safe.

#include <optional>
#include <string>

#include "common/proto/tables.pb.h"

namespace weft::policy {

std::string serialize_tables(const proto::NodeTables& tables);
std::optional<proto::NodeTables> parse_tables(const std::string& bytes);
std::string tables_to_json(const proto::NodeTables& tables);

}  // namespace weft::policy
