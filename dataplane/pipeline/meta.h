#pragma once
// Per-packet metadata, kept in the mbuf private area (not in side tables), so
// it travels with the packet through every stage at no lookup cost.
//
// Every mempool weftd creates reserves `kMetaPrivSize` bytes of private area
// (see mbuf_pool.h); `meta(m)` is then a pointer add. Offsets are relative to
// the start of the mbuf data (rte_pktmbuf_mtod) and are only valid for single-
// segment mbufs, which is all weftd receives (no scatter rx configured).
//
// Owned by whichever stage holds the packet; no locking.

#include <rte_mbuf.h>

#include <cstdint>

namespace weft::dp {

enum class L3Type : uint8_t { kNone = 0, kIpv4, kIpv6, kArp };

// Layers of one Ethernet frame, as found by the parser.
struct FrameLayers {
  uint16_t l2 = 0;         // Ethernet header
  uint16_t l3 = 0;         // after the last VLAN tag
  uint16_t l4 = 0;         // transport header; 0 when none (or a non-first fragment)
  uint16_t ethertype = 0;  // host order, after VLAN tags
  uint16_t vlan_tci = 0;   // host order, outermost tag; valid when kFlagVlan
  L3Type l3_type = L3Type::kNone;
  uint8_t l4_proto = 0;    // IPPROTO_*; for IPv6, after extension headers
  uint8_t flags = 0;       // kFlag*
  uint8_t pad_ = 0;
};

inline constexpr uint8_t kFlagVlan = 1 << 0;      // at least one 802.1Q/802.1ad tag
inline constexpr uint8_t kFlagFragment = 1 << 1;  // IP fragment (first or later)
inline constexpr uint8_t kFlagLaterFragment = 1 << 2;  // fragment offset != 0: no L4
inline constexpr uint8_t kFlagIpOptions = 1 << 3;      // IPv4 options / IPv6 ext headers
inline constexpr uint8_t kFlagVxlan = 1 << 4;          // outer frame carries VXLAN

// PktMeta::xlate_conn: no translation. Otherwise the connection's entry
// index, with kXlateReply set when the packet goes its reply way.
inline constexpr uint32_t kNoConn = UINT32_MAX;
inline constexpr uint32_t kXlateReply = 1u << 31;

// PktMeta::flow_hash before anything computed it (parse.h: flow_hash_of);
// a hash that comes out as this value is stored as flow_hash_value's 1.
inline constexpr uint32_t kFlowHashUnset = 0;
inline constexpr uint32_t flow_hash_value(uint32_t h) { return h != kFlowHashUnset ? h : 1; }

struct PktMeta {
  FrameLayers outer;  // the frame as received
  FrameLayers inner;  // the VXLAN payload frame; valid when outer.flags & kFlagVxlan
  uint32_t vni = 0;        // from VXLAN, or the network of the ingress vNIC
  uint32_t flow_hash = kFlowHashUnset;  // symmetric, per connection: read it with flow_hash_of (parse.h)
  uint16_t in_port = 0;    // DPDK port id the packet arrived on
  uint16_t out_port = 0;   // DPDK port id to transmit on; set before kTx
  uint16_t drop_reason = 0;  // DropReason, set together with next = kDrop
  uint8_t next = 0;          // NodeId of the next stage (see graph.h)
  uint8_t trace = 0;         // non-zero: stages append trace lines (slow path only)
  uint32_t generation = 0;   // snapshot generation the packet was classified with
  uint16_t tunnel = 0;       // remote VTEP (index into the snapshot's VtepTable) for kVxlanEncap
  uint8_t ct = 0;            // conntrack disposition (flowcache/ct_meta.h), set by kFlowLookup
  uint8_t drop_node = 0;     // NodeId of the stage that dropped it; set by the Pipeline
  // The tail's header rewrite (rewrite/): an index into the snapshot's
  // rewrite table (0: none), and the translated connection whose binding
  // (NAT, load-balancer backend) applies, kNoConn when none. Set by the
  // stage that decides the packet's path, or by a flow-cache hit.
  uint16_t rewrite = 0;
  // The peer VTEP (VtepTable index) a packet from the underlay was
  // decapsulated from; set by kVxlanDecap, meaningless otherwise.
  uint16_t src_vtep = 0;
  uint32_t xlate_conn = kNoConn;
  // The ports' QoS classes for this packet (qos/qos_table.h); 0: no QoS.
  // Set with the tail's other inputs.
  uint8_t qos = 0;
  // Non-zero: the kQos stage marked the packet for its shaper (qos/
  // qos_shaper.h), 1 + the QosDir whose limit it is shaped by; the Pipeline
  // queues it there at kTx. Cleared by the parser.
  uint8_t qos_shaped = 0;
};


inline constexpr uint16_t kMetaPrivSize =
    static_cast<uint16_t>((sizeof(PktMeta) + RTE_MBUF_PRIV_ALIGN - 1) & ~(RTE_MBUF_PRIV_ALIGN - 1));
static_assert(sizeof(PktMeta) <= 64, "PktMeta should stay within one cache line");

inline PktMeta* meta(rte_mbuf* m) { return static_cast<PktMeta*>(rte_mbuf_to_priv(m)); }
inline const PktMeta* meta(const rte_mbuf* m) {
  return static_cast<const PktMeta*>(rte_mbuf_to_priv(const_cast<rte_mbuf*>(m)));
}

}  // namespace weft::dp
