#pragma once
// RewriteTable: the header rewrites of one snapshot, which the tail's
// kRewrite applies to a packet by index (PktMeta::rewrite, recorded in a
// flow-cache entry as FlowAction::rewrite). Entry 0 is "none".
//
// An entry is what a routed packet needs on its way to one destination:
// the router's MAC as source, the destination port's MAC, one hop off its
// TTL, and the destination network's MTU. Features that route (l3/) add
// entries while the snapshot is built; identical entries share an index,
// so a table holds one per destination port, not one per route.
//
// Main lcore: add() while building. Workers: read-only.

#include <rte_ether.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

namespace weft::dp {

inline constexpr uint8_t kRewriteMacs = 1 << 0;  // set source and destination MAC
inline constexpr uint8_t kRewriteTtl = 1 << 1;   // IPv4 TTL - 1; TTL <= 1 is time exceeded

struct RewriteEntry {
  rte_ether_addr src_mac{};
  rte_ether_addr dst_mac{};
  uint16_t mtu = 0;  // the largest IPv4 packet the destination carries; 0: not checked
  uint8_t flags = 0;
};

class RewriteTable {
 public:
  static constexpr uint16_t kNone = 0;
  static constexpr size_t kMaxEntries = UINT16_MAX;

  RewriteTable() : entries_(1) {}

  // The index of `e`, added if new; kNone when the table is full.
  uint16_t add(const RewriteEntry& e) {
    const auto key = std::make_tuple(mac_bits(e.src_mac), mac_bits(e.dst_mac), e.mtu, e.flags);
    if (auto it = index_.find(key); it != index_.end()) return it->second;
    if (entries_.size() >= kMaxEntries) return kNone;
    const auto idx = static_cast<uint16_t>(entries_.size());
    entries_.push_back(e);
    index_.emplace(key, idx);
    return idx;
  }

  size_t size() const { return entries_.size(); }
  const RewriteEntry& operator[](uint16_t idx) const { return entries_[idx]; }

 private:
  static uint64_t mac_bits(const rte_ether_addr& m) {
    uint64_t v = 0;
    std::memcpy(&v, m.addr_bytes, RTE_ETHER_ADDR_LEN);
    return v;
  }

  std::vector<RewriteEntry> entries_;
  std::map<std::tuple<uint64_t, uint64_t, uint16_t, uint8_t>, uint16_t> index_;
};

}  // namespace weft::dp
