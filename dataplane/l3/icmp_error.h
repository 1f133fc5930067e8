#pragma once
// ICMPv4 errors the distributed router sends about a packet it cannot
// forward: time exceeded (TTL), destination unreachable (no route, no
// neighbour), fragmentation needed (DF set and larger than the next hop's
// MTU, RFC 1191). The anchors get these wrong (DESIGN.md, "Routing"):
// traceroute shows the wrong hop, PMTU breaks. Weft makes every one in the
// worker, from the tenant's gateway address, rate-limited:
//
//   if (icmp_error_allowed(data, len, layers) && node_icmp_bucket.try_take(now)) {
//     rte_mbuf* e = rte_pktmbuf_alloc(pool);              // the caller's pool
//     uint8_t* out = (uint8_t*)rte_pktmbuf_append(e, kIcmpErrorMaxFrameLen);
//     uint32_t n = write_icmp_error(data, len, layers, IcmpErrorKind::kTimeExceeded, 0,
//                                   router_mac, gateway_ip, out, kIcmpErrorMaxFrameLen);
//     rte_pktmbuf_trim(e, kIcmpErrorMaxFrameLen - n);    // n == 0: free it instead
//     ... send e back out the offending packet's port; drop the offending packet
//   }
//
// The error is written into a buffer the caller gives (a fresh mbuf's data,
// usually), not in place over the offending packet: its quote begins with
// that packet's IP header, which would have to move 28 bytes down over
// itself, and a pure function over bytes is what the tests and a fuzzer
// can call. Allocation stays the caller's, from its own pool.
//
// The error frame: Ethernet from `router_mac` to the offending packet's
// source MAC, untagged (vNIC frames carry no VLAN tag; port security drops
// them); IPv4 from `gateway_ip` to the offending packet's source, TTL 64,
// precedence 6 (RFC 1812 §4.3.2.5), no options; ICMP type and code of the
// kind, the second 16-bit word of its header the next-hop MTU for
// fragmentation needed (RFC 1191 §4), zero otherwise; then the offending
// packet from its IP header on, as much as keeps the error's IP length
// within 576 bytes (RFC 1812 §4.3.2.3): at most 548 bytes of quote. Both
// checksums are computed. The quote is the packet as it arrived: call this
// before decrementing its TTL or rewriting anything.
//
// Pure functions over bytes: no allocation, no EAL, noexcept; any thread.

#include <rte_ether.h>

#include <cstdint>

#include "dataplane/pipeline/meta.h"

namespace weft::dp {

enum class IcmpErrorKind : uint8_t {
  kTimeExceeded,         // 11/0: TTL exceeded in transit
  kNetUnreachable,       // 3/0: no route to the destination's network
  kHostUnreachable,      // 3/1: the network is known, the host is not
  kFragmentationNeeded,  // 3/4: DF set and larger than the next hop's MTU
};

// ICMP types and codes (RFC 792, RFC 1191) of the errors above.
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpCodeNetUnreachable = 0;
inline constexpr uint8_t kIcmpCodeHostUnreachable = 1;
inline constexpr uint8_t kIcmpCodeFragmentationNeeded = 4;
inline constexpr uint8_t kIcmpCodeTtlExceeded = 0;

inline constexpr uint32_t kIcmpErrorMaxIpLen = 576;  // RFC 1812 §4.3.2.3
inline constexpr uint32_t kIcmpErrorMaxFrameLen = RTE_ETHER_HDR_LEN + kIcmpErrorMaxIpLen;
// The IP header and ICMP header in front of the quote.
inline constexpr uint32_t kIcmpErrorHeadersLen = 20 + 8;
inline constexpr uint8_t kIcmpErrorTtl = 64;
inline constexpr uint8_t kIcmpErrorTos = 0xc0;  // precedence 6, internetwork control

// Whether an error may be sent about the IPv4 packet in data[0, len) whose
// layers are `f` (RFC 1812 §4.3.2.7). No error about:
//   - an ICMP error (a type other than echo, timestamp, information,
//     address mask and router discovery, or one whose type cannot be read),
//     so that two routers never answer each other's errors forever;
//   - a fragment other than the first (the first carries the headers the
//     sender needs to match the error with);
//   - a link-layer broadcast or multicast frame;
//   - an IP destination that is 255.255.255.255 or multicast (224/4) or
//     class E (240/4);
//   - an IP source that does not name one host: 0/8 (0.0.0.0 among them),
//     127/8, 224/4, 240/4 (255.255.255.255 among them).
// False too for anything that is not an IPv4 header whole within `len`.
// The caller's own duty: a packet to a subnet-directed broadcast address
// (it knows the subnets), and the rate limit (token_bucket.h).
bool icmp_error_allowed(const uint8_t* data, uint32_t len, const FrameLayers& f) noexcept;

// Writes the `kind` error about the IPv4 packet in data[0, len) (layers
// `f`; only l2 and l3 are read) into out[0, returned length), sent by the
// router at `router_mac` / `gateway_ip` (host order). `next_hop_mtu` is
// the MTU of the link the packet did not fit, for kFragmentationNeeded;
// ignored for the others. The quote is cut short to fit `out_cap` (which
// kIcmpErrorMaxFrameLen always satisfies), but never below the offending
// IP header and 8 bytes of its payload (RFC 792); returns 0 and writes
// nothing when even that does not fit, or the packet is not IPv4 with its
// whole header within `len` and a total length that holds the header. The
// quote ends at the IP total length (not the Ethernet padding) or at `len`,
// whichever comes first: the first segment of a chained mbuf is enough.
// `out` must not overlap `data`.
// It does not check icmp_error_allowed: call that first.
uint32_t write_icmp_error(const uint8_t* data, uint32_t len, const FrameLayers& f,
                          IcmpErrorKind kind, uint16_t next_hop_mtu,
                          const rte_ether_addr& router_mac, uint32_t gateway_ip, uint8_t* out,
                          uint32_t out_cap) noexcept;

}  // namespace weft::dp
