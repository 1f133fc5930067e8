#pragma once
// What the snapshot's exact-match tables share: an owning rte_hash pointer,
// and the encoding of small integers (indices, port ids) and MACs as the
// data word of an entry, so that a lookup touches no memory beyond the
// hash itself.
//
// Any thread; pure functions.

#include <rte_ether.h>
#include <rte_hash.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "common/net.h"

namespace weft::dp {

struct HashDeleter {
  void operator()(rte_hash* h) const noexcept { rte_hash_free(h); }
};
using HashPtr = std::unique_ptr<rte_hash, HashDeleter>;

// An index as a data word, and back.
inline void* index_data(uint32_t index) { return reinterpret_cast<void*>(uintptr_t{index}); }
inline uint32_t data_index(const void* data) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
}

// The compiled tables' MAC (a uint64, common/net.h) as DPDK's.
inline rte_ether_addr ether_from_u64(uint64_t v) {
  const Mac m = mac_from_u64(v);
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.data(), RTE_ETHER_ADDR_LEN);
  return a;
}
inline uint64_t ether_to_u64(const rte_ether_addr& a) {
  Mac m;
  std::memcpy(m.data(), a.addr_bytes, RTE_ETHER_ADDR_LEN);
  return mac_to_u64(m);
}

// A MAC as a data word (the 48-bit form above), and back.
inline void* mac_data(const rte_ether_addr& mac) { return reinterpret_cast<void*>(uintptr_t{ether_to_u64(mac)}); }
inline rte_ether_addr data_mac(const void* data) {
  return ether_from_u64(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)));
}

}  // namespace weft::dp
