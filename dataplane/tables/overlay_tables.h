#pragma once
// The overlay's lookup tables, one member of every Snapshot (snapshot.h):
// what the L2 overlay stages read to forward a frame inside its network and
// across the VXLAN underlay.
//
//   fdb      (VNI, MAC) -> a local port, a remote VTEP, the network's router,
//            or a port of this node that is not bound to a vNIC
//   arp      (VNI, IPv4) -> the MAC ARP suppression answers with
//   vni      VNI -> network index (decap, flood)
//   vtep     peer VTEP IPv4 -> VTEP index (decap's allow-set)
//   networks, vteps   by index; vnics by DPDK port id
//
// Exact-match tables are rte_hash, looked up in bulk by the stages; their
// data pointers carry small integers, not pointers (encodings below), so a
// lookup touches no memory beyond the hash itself. Keys are built with the
// helpers here, by the builder and the stages alike.
//
// Built once by build_snapshot (snapshot_builder.h) on the main lcore, then
// read-only: workers look up concurrently without locks (an rte_hash with no
// writer is multi-reader safe).

#include <rte_ether.h>
#include <rte_hash.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/stats/counters.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {

struct HashDeleter {
  void operator()(rte_hash* h) const noexcept { rte_hash_free(h); }
};
using HashPtr = std::unique_ptr<rte_hash, HashDeleter>;

// --- keys ----------------------------------------------------------------------

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

// (VNI, IPv4 in host order).
inline uint64_t arp_key(uint32_t vni, uint32_t ip) { return (uint64_t{vni} << 32) | ip; }

// --- data encodings ------------------------------------------------------------

enum class FdbKind : uint8_t {
  kLocal = 1,  // value: the DPDK port id of the vNIC
  kRemote,     // value: index into OverlayTables::vteps
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

// ARP data: the 48-bit MAC, first octet most significant.
inline void* mac_data(const rte_ether_addr& mac) {
  uintptr_t v = 0;
  for (uint8_t b : mac.addr_bytes) v = (v << 8) | b;
  return reinterpret_cast<void*>(v);
}
inline rte_ether_addr data_mac(const void* data) {
  auto v = reinterpret_cast<uintptr_t>(data);
  rte_ether_addr mac;
  for (int i = RTE_ETHER_ADDR_LEN - 1; i >= 0; --i, v >>= 8) mac.addr_bytes[i] = static_cast<uint8_t>(v);
  return mac;
}

// VNI and VTEP tables: the index itself.
inline void* index_data(uint32_t index) { return reinterpret_cast<void*>(uintptr_t{index}); }
inline uint32_t data_index(const void* data) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
}

// --- rows ----------------------------------------------------------------------

struct OverlayNetwork {
  std::string name;
  uint32_t vni = 0;
  uint32_t mtu = 0;  // the largest inner IP packet (frame minus its Ethernet header)
  rte_ether_addr router_mac{};
  // Broadcast and unknown unicast go to each of these once.
  std::vector<uint16_t> flood_ports;  // bound local vNICs, DPDK port ids
  std::vector<uint16_t> flood_vteps;  // indices into OverlayTables::vteps
};

struct OverlayVtep {
  VxlanOuterHeader outer;     // make_outer_template(): copied in front of every frame
  uint32_t ip_partial_sum = 0;  // outer_ip_partial_sum(outer)
  uint32_t ip = 0;              // host order
  uint32_t next_hop = 0;        // the underlay neighbor packets go to: ip, or the next hop
  uint32_t neighbor = 0;        // its NeighborTable slot
  bool routable = false;        // false: off the underlay subnet and no next hop configured
  std::string node;
};

// What a vNIC port is in the policy. Addresses in network byte order: port
// security compares them with packet fields as they are.
struct OverlayVnic {
  struct Allowed {
    rte_be32_t addr;  // network address, masked
    rte_be32_t mask;
  };
  bool in_policy = false;  // false: bound in node.yaml but not a port of the policy
  uint16_t network = 0;    // index into OverlayTables::networks
  uint32_t vni = 0;
  uint32_t mtu = 0;        // the network's
  rte_ether_addr mac{};
  rte_be32_t ip = 0;
  std::vector<Allowed> allowed;  // allowed_addresses
};

struct OverlayTables {
  HashPtr fdb;   // FdbKey -> fdb_data()
  HashPtr arp;   // arp_key() -> mac_data()
  HashPtr vni;   // uint32_t VNI -> network index
  HashPtr vtep;  // uint32_t IPv4 (host order) -> VTEP index
  std::vector<OverlayNetwork> networks;
  std::vector<OverlayVtep> vteps;
  std::array<OverlayVnic, kMaxPorts> vnics{};  // by DPDK port id
};

// The node's own underlay address, from node.yaml (Dataplane::make_snapshot).
struct UnderlayIdentity {
  uint32_t ip = 0;  // the VTEP address, host order; 0: unknown
  uint8_t prefix_len = 0;
  uint32_t next_hop = 0;  // 0: none configured
  rte_ether_addr mac{};   // of the underlay port

  bool on_link(uint32_t addr) const {
    const uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
    return (addr & mask) == (ip & mask);
  }
};

}  // namespace weft::dp
