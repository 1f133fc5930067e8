#pragma once
// The external port's optional 802.1Q tag (node.yaml `external.vlan`):
// taken off a frame as it arrives (kExternalIn) and put on as it leaves
// (kExternalOut), so every stage between sees an untagged frame.
//
// Pure functions over one single-segment mbuf and its metadata; any
// thread.

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/pipeline/meta.h"

namespace weft::dp {

inline constexpr uint16_t kVlanTagLen = sizeof(rte_vlan_hdr);

// Removes the one tag the parser found (kFlagVlan, directly after the MAC
// addresses) and moves the parsed offsets with it.
inline void strip_vlan(rte_mbuf* m, PktMeta& md) noexcept {
  uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
  std::memmove(data + kVlanTagLen, data, 2 * RTE_ETHER_ADDR_LEN);
  rte_pktmbuf_adj(m, kVlanTagLen);
  md.outer.l3 = static_cast<uint16_t>(md.outer.l3 - kVlanTagLen);
  if (md.outer.l4 != 0) md.outer.l4 = static_cast<uint16_t>(md.outer.l4 - kVlanTagLen);
  md.outer.flags = static_cast<uint8_t>(md.outer.flags & ~kFlagVlan);
  md.outer.vlan_tci = 0;
}

// Tags an untagged frame with VLAN `vlan`; false when the mbuf has no
// headroom for it.
inline bool push_vlan(rte_mbuf* m, PktMeta& md, uint16_t vlan) noexcept {
  auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVlanTagLen));
  if (data == nullptr) return false;
  std::memmove(data, data + kVlanTagLen, 2 * RTE_ETHER_ADDR_LEN);
  const rte_be16_t tpid = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
  const rte_be16_t tci = rte_cpu_to_be_16(vlan);
  std::memcpy(data + 2 * RTE_ETHER_ADDR_LEN, &tpid, sizeof tpid);
  std::memcpy(data + 2 * RTE_ETHER_ADDR_LEN + sizeof tpid, &tci, sizeof tci);
  md.outer.l3 = static_cast<uint16_t>(md.outer.l3 + kVlanTagLen);
  if (md.outer.l4 != 0) md.outer.l4 = static_cast<uint16_t>(md.outer.l4 + kVlanTagLen);
  md.outer.flags |= kFlagVlan;
  md.outer.vlan_tci = vlan;
  return true;
}

}  // namespace weft::dp
