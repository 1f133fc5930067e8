#pragma once
// L2Table: the overlay's bridge tables. The FDB maps (VNI, MAC) to a local
// port, a remote VTEP, the network's router, or a port of this node that
// is not bound to a vNIC; each network (by NetworkTable index) has a flood
// list for broadcast and unknown unicast.
//
// The FDB is an rte_hash looked up in bulk by L2 lookup; its data word
// carries the location itself (fdb_data), not a pointer. The VNI is part
// of every key, so no lookup can return another network's port.
//
// Built by build_l2 (l2_builder.cc) on the main lcore, then read-only.

#include <rte_ether.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/tables/hash.h"

namespace weft::dp {

// (VNI, MAC): the MAC as it sits in the frame, so a key is two stores.
// Padded to 16 bytes, a length rte_hash compares with one vector compare
// instead of a call to memcmp.
struct FdbKey {
  uint32_t vni;
  uint8_t mac[RTE_ETHER_ADDR_LEN];
  uint16_t zero16;  // padding, hashed with the rest: always 0
  uint32_t zero32;
};
static_assert(sizeof(FdbKey) == 16);

inline FdbKey fdb_key(uint32_t vni, const rte_ether_addr& mac) {
  FdbKey k;
  k.vni = vni;
  std::memcpy(k.mac, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  k.zero16 = 0;
  k.zero32 = 0;
  return k;
}

enum class FdbKind : uint8_t {
  kLocal = 1,  // value: the DPDK port id of the vNIC
  kRemote,     // value: index into the VtepTable
  kRouter,     // the network's distributed router MAC; value unused
  kUnbound,    // a port of this node that node.yaml binds to no vNIC
};

struct FdbEntry {
  FdbKind kind;
  uint16_t value;
};

inline void* fdb_data(FdbEntry e) {
  return reinterpret_cast<void*>((uintptr_t{static_cast<uint8_t>(e.kind)} << 16) | e.value);
}
inline FdbEntry fdb_entry(const void* data) {
  const auto v = reinterpret_cast<uintptr_t>(data);
  return {static_cast<FdbKind>(v >> 16), static_cast<uint16_t>(v)};
}

// Broadcast and unknown unicast of one network go to each of these once.
struct FloodList {
  std::vector<uint16_t> ports;  // bound local vNICs, DPDK port ids, each once
  std::vector<uint16_t> vteps;  // VtepTable indices, each once
};

struct L2Table {
  HashPtr fdb;                   // FdbKey -> fdb_data()
  std::vector<FloodList> flood;  // by NetworkTable index
  // Which peer hosts which network: (VTEP index << 16 | NetworkTable
  // index), sorted, each once; from the flood lists, the L2 entries of
  // remote ports and the network's gateway node. VXLAN decap accepts a VNI
  // only from its network's peers.
  std::vector<uint32_t> members;

  bool hosts(uint16_t vtep, uint32_t network) const noexcept {
    return std::binary_search(members.begin(), members.end(), uint32_t{vtep} << 16 | network);
  }
};

struct BuildContext;
struct VtepTable;
// After build_networks and build_vteps: entries name networks and VTEPs.
void build_l2(const BuildContext& ctx, const VtepTable& vteps, L2Table& t);

}  // namespace weft::dp
