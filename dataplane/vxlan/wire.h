#pragma once
// The VXLAN encapsulation as it goes on the wire (RFC 7348 §5): outer
// Ethernet, IPv4, UDP and the 8-byte VXLAN header in front of the inner
// frame, and the pieces of it that encap writes per packet.
//
// The snapshot builder fills one VxlanOuterHeader per remote VTEP with
// everything that does not change from packet to packet (make_outer_template);
// VxlanEncapStage copies it in front of each frame with one memcpy and then
// patches the per-packet fields (write_outer_per_packet): the next hop's MAC,
// the two lengths, the IPv4 checksum, the UDP source port and the VNI.
//
// Constants and pure inline functions over bytes: any thread.

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/wire.h"

namespace weft::dp {

// Outer headers of an IPv4-underlay VXLAN packet, byte for byte.
struct VxlanOuterHeader {
  rte_ether_hdr eth;
  rte_ipv4_hdr ip;
  rte_udp_hdr udp;
  rte_vxlan_hdr vxlan;
} __rte_packed __rte_aligned(2);
static_assert(sizeof(VxlanOuterHeader) == 50, "14 + 20 + 8 + 8 bytes (RFC 7348 §5)");

inline constexpr uint16_t kVxlanOuterLen = sizeof(VxlanOuterHeader);
// What the outer IPv4 packet adds to the inner frame's length.
inline constexpr uint16_t kVxlanOuterIpLen = sizeof(rte_ipv4_hdr) + kVxlanEncapLen;

// RFC 7348 §5: a TTL like any host's; DF set, because a tunnel packet is
// never fragmented (frames above the network's MTU are dropped instead).
inline constexpr uint8_t kVxlanOuterTtl = 64;

// UDP source ports are taken from the inner flow hash within the dynamic
// range 49152-65535 that RFC 7348 §5 recommends, so that underlay ECMP and
// NIC RSS spread the flows while every packet of a flow takes one path.
inline constexpr uint16_t kVxlanSrcPortMin = 49152;
inline constexpr uint16_t kVxlanSrcPortMask = 0x3fff;  // 16384 ports above the minimum
inline constexpr uint16_t vxlan_src_port(uint32_t flow_hash) {
  // Fold the high half in: both halves of a CRC carry entropy, and the low
  // 14 bits alone would drop most of it.
  return static_cast<uint16_t>(kVxlanSrcPortMin | ((flow_hash ^ (flow_hash >> 16)) & kVxlanSrcPortMask));
}

// Everything but the per-packet fields: destination MAC zero (the next hop
// may not be resolved yet), lengths, checksum, source port and VNI zero.
// Addresses in host byte order.
inline VxlanOuterHeader make_outer_template(const rte_ether_addr& src_mac, uint32_t src_ip,
                                            uint32_t dst_ip) {
  VxlanOuterHeader h;
  std::memset(&h, 0, sizeof h);
  h.eth.src_addr = src_mac;
  h.eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  h.ip.version_ihl = RTE_IPV4_VHL_DEF;
  h.ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  h.ip.time_to_live = kVxlanOuterTtl;
  h.ip.next_proto_id = IPPROTO_UDP;
  h.ip.src_addr = rte_cpu_to_be_32(src_ip);
  h.ip.dst_addr = rte_cpu_to_be_32(dst_ip);
  h.udp.dst_port = rte_cpu_to_be_16(kVxlanPort);
  // UDP checksum zero: RFC 7348 §5 for IPv4, and what every VTEP sends.
  h.vxlan.vx_flags = rte_cpu_to_be_32(uint32_t{kVxlanFlagI} << 24);
  return h;
}

// The one's-complement sum of the template's IPv4 header with total length
// and checksum zero, unfolded: adding the total length and folding gives the
// checksum, so encap never sums the header again.
inline uint32_t outer_ip_partial_sum(const VxlanOuterHeader& h) {
  return __rte_raw_cksum(&h.ip, sizeof h.ip, 0);
}

// Writes the per-packet fields of a header that holds a copy of the
// template. `inner_len` is the inner Ethernet frame's length.
inline void write_outer_per_packet(VxlanOuterHeader* h, const rte_ether_addr& next_hop,
                                   uint32_t ip_partial_sum, uint32_t inner_len, uint32_t vni,
                                   uint32_t flow_hash) {
  h->eth.dst_addr = next_hop;
  const uint16_t ip_len = static_cast<uint16_t>(inner_len + kVxlanOuterIpLen);
  h->ip.total_length = rte_cpu_to_be_16(ip_len);
  // The template sum is over big-endian words read natively; the length
  // joins it the same way.
  uint32_t sum = ip_partial_sum + h->ip.total_length;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  h->ip.hdr_checksum = static_cast<uint16_t>(~sum);
  h->udp.src_port = rte_cpu_to_be_16(vxlan_src_port(flow_hash));
  h->udp.dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(inner_len + kVxlanEncapLen));
  h->vxlan.vx_vni = rte_cpu_to_be_32(vni << kVxlanVniShift);
}

}  // namespace weft::dp
