#pragma once
// What every feature's table builder shares (the `<feature>_builder.cc`
// files that build_snapshot calls in turn): the input and the snapshot
// under construction, warnings, the policy port -> DPDK port map, and the
// helpers for rte_hash tables.
//
// A builder refuses tables no dataplane could use by calling build_fail()
// with the reason; build_snapshot (snapshot_builder.h) catches it at its
// boundary and keeps the tables in force. Nothing else throws across it.
//
// Main lcore only.

#include <rte_hash.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "dataplane/tables/hash.h"

namespace weft::dp {

struct Snapshot;

struct BuildError {
  std::string why;
};
[[noreturn]] void build_fail(std::string why);

struct BuildContext {
  const proto::NodeTables& in;
  Snapshot& snap;
  std::vector<std::string>* warnings = nullptr;
  std::map<std::string, uint16_t> bound;  // policy port name -> DPDK port id (node.yaml)

  void warn(std::string w) const {
    if (warnings != nullptr) warnings->push_back(std::move(w));
  }
  std::optional<uint16_t> bound_port(const std::string& name) const {
    auto it = bound.find(name);
    if (it == bound.end()) return std::nullopt;
    return it->second;
  }
};

// Tables are indexed by uint16_t (networks, VTEPs, rewrites).
inline constexpr size_t kMaxTableIndex = UINT16_MAX;

// An rte_hash for `entries` keys of `key_len` bytes, named after `what`;
// build_fail() when DPDK cannot make one.
HashPtr make_hash(const char* what, uint32_t key_len, size_t entries);
// Adds `key`; false when it is already there.
bool add_unique(rte_hash* h, const void* key, void* data);

std::string ip_text(uint32_t ip);    // host order
std::string mac_text(uint64_t mac);  // the compiled tables' form

}  // namespace weft::dp
