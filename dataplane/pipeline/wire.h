#pragma once
// Wire-format pieces the parser and the tunnel stages need beyond DPDK's own
// header structs (rte_ether.h, rte_ip.h, rte_udp.h, rte_tcp.h, rte_icmp.h,
// rte_arp.h, rte_vxlan.h), which stay the first choice: field offsets are
// taken from them with offsetof so the layouts are written down once.
//
// Everything here is constexpr or a pure inline function over bytes; any
// thread may use it.

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_vxlan.h>

#include <cstdint>
#include <cstring>

namespace weft::dp {

// Loads from packet bytes at any alignment (a packet header is only as
// aligned as the frame and the headers before it), in host byte order.
inline uint16_t load_be16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return rte_be_to_cpu_16(v);
}
inline uint32_t load_be32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return rte_be_to_cpu_32(v);
}

// --- VXLAN (RFC 7348) --------------------------------------------------------
//
//  0                   1                   2                   3
//  |R|R|R|R|I|R|R|R|            Reserved                           |
//  |                VXLAN Network Identifier (VNI) |   Reserved    |
//
// rte_vxlan_hdr is exactly this (two big-endian words); the constants below
// name the parts of it.
static_assert(sizeof(rte_vxlan_hdr) == 8);

inline constexpr uint16_t kVxlanPort = RTE_VXLAN_DEFAULT_PORT;
inline constexpr uint8_t kVxlanFlagI = 0x08;  // first byte: "VNI is valid"
inline constexpr uint32_t kVxlanVniShift = 8;  // VNI sits above the last reserved byte
inline constexpr uint32_t kVxlanMaxVni = (1u << 24) - 1;
// Outer UDP + VXLAN bytes in front of the inner Ethernet frame.
inline constexpr uint32_t kVxlanEncapLen = RTE_ETHER_VXLAN_HLEN;

// --- IPv6 extension headers (RFC 8200 §4) -----------------------------------
//
// Hop-by-hop, routing and destination options share this two-byte prefix;
// their length is (hdr_ext_len + 1) 8-octet units. The fragment header is
// rte_ipv6_fragment_ext (always 8 bytes).
struct Ipv6ExtHeader {
  uint8_t next_header;
  uint8_t hdr_ext_len;  // in 8-octet units, not counting the first 8 octets
} __rte_packed;
static_assert(sizeof(Ipv6ExtHeader) == 2);
static_assert(sizeof(rte_ipv6_fragment_ext) == 8);

inline constexpr uint32_t kIpv6ExtUnit = 8;  // every extension header is a multiple of 8
inline constexpr uint32_t ipv6_ext_len(uint8_t hdr_ext_len) {
  return (uint32_t{hdr_ext_len} + 1) * kIpv6ExtUnit;
}

// --- ARP for Ethernet/IPv4 (RFC 826) -----------------------------------------
//
// The first six bytes of the only ARP weftd answers or forwards: hardware
// Ethernet (1), protocol IPv4 (0x0800), address lengths 6 and 4.
inline constexpr uint32_t kArpEthIpv4Prefix = 0x00010800;  // htype, ptype
inline constexpr uint16_t kArpEthIpv4Lens = 0x0604;        // hlen, plen
inline constexpr uint32_t kArpFixedLen = offsetof(rte_arp_hdr, arp_data);  // 8
static_assert(sizeof(rte_arp_hdr) == 28);

}  // namespace weft::dp
