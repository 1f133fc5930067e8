#pragma once
// Which worker owns a connection: the one whose connection table (the flow
// cache, conntrack/conn_table.h) holds it. Every packet of the connection,
// either way, from a vNIC or decapsulated from the underlay, must be
// handled by that worker, whichever rx queue it arrived on.
//
// The owner is a function of the connection's key (conntrack/conn_key.h):
// its endpoints in canonical order and its zone (VNI, protocol), so both
// directions, a VM's frame and the same connection's VXLAN packet from a
// peer (whose outer headers differ per direction and per peer), and an ICMP
// error quoting one of its packets, all name the same worker. A packet
// with no connection (ARP, IPv6, a fragment, ICMP that is neither echo nor
// an error, a malformed quote) is nobody's: kAnyWorker, handled where it
// arrives, since no table of a worker decides it.
//
//   unsigned w = packet_owner(rte_pktmbuf_mtod(m, const uint8_t*), md->outer, md->vni, workers);
//   if (w != kAnyWorker && w != self) ...hand it to w (handoff_stage.h)...
//
// Translated connections (NAT, the load balancer) carry a different tuple
// each way, so on a node whose snapshot translates, the owner of a key is
// conn_owner.h's, which builds on these functions.
//
// Pure functions over bytes; any thread.

#include <cstdint>

#include "dataplane/conntrack/conn_key.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

inline constexpr unsigned kAnyWorker = ~0u;

// Spreads a 32-bit hash over `workers` by its high bits (a multiply and a
// shift, no division), so the owner stays independent of the low bits the
// connection table's buckets use.
constexpr unsigned owner_of_hash(uint32_t hash, unsigned workers) {
  return static_cast<unsigned>((uint64_t{hash} * workers) >> 32);
}

// The owner of a connection's key.
inline unsigned key_owner(const ConnKey& key, unsigned workers) {
  return owner_of_hash(conn_hash(key), workers);
}

// The key a parsed IPv4 frame's owner is decided on (`f`: the frame the
// flow cache will look up, after any decap; `vni`: its network): its
// connection's, or an ICMP error's quoted one. False when it has none.
bool owner_key(const uint8_t* data, const FrameLayers& f, uint32_t vni, ConnKey& key) noexcept;

// The owner of a parsed IPv4 frame's connection (`f`: the frame the flow
// cache will look up, after any decap; `vni`: its network), kAnyWorker
// when it has none.
unsigned packet_owner(const uint8_t* data, const FrameLayers& f, uint32_t vni, unsigned workers) noexcept;

}  // namespace weft::dp
