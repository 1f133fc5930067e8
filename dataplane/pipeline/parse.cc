#include "dataplane/pipeline/parse.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dataplane/pipeline/wire.h"

namespace weft::dp {

namespace {

using R = DropReason;

constexpr uint32_t kEthLen = sizeof(rte_ether_hdr);
constexpr uint32_t kVlanLen = sizeof(rte_vlan_hdr);
constexpr uint32_t kIpv4MinLen = sizeof(rte_ipv4_hdr);
constexpr uint32_t kIpv6Len = sizeof(rte_ipv6_hdr);
constexpr uint32_t kTcpMinLen = sizeof(rte_tcp_hdr);
constexpr uint32_t kUdpLen = sizeof(rte_udp_hdr);
constexpr uint32_t kIcmpLen = sizeof(rte_icmp_hdr);
constexpr uint32_t kVxlanLen = sizeof(rte_vxlan_hdr);
constexpr uint32_t kMaxOffset = UINT16_MAX;  // FrameLayers offsets are 16-bit

static_assert(kIcmpLen == 8, "ICMP header: type, code, checksum and the 4-byte body word");

// Header fields are compared in network byte order against constants
// swapped at compile time: no swap on the packet's side.
inline uint16_t load_net16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
constexpr uint16_t kNetVlan = RTE_BE16(RTE_ETHER_TYPE_VLAN);
constexpr uint16_t kNetQinq = RTE_BE16(RTE_ETHER_TYPE_QINQ);
constexpr uint16_t kNetIpv4 = RTE_BE16(RTE_ETHER_TYPE_IPV4);
constexpr uint16_t kNetIpv6 = RTE_BE16(RTE_ETHER_TYPE_IPV6);
constexpr uint16_t kNetArp = RTE_BE16(RTE_ETHER_TYPE_ARP);
constexpr uint16_t kNetVxlanPort = RTE_BE16(kVxlanPort);
constexpr uint16_t kNetFragMask = RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);
constexpr uint16_t kNetFragOffset = RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK);

// How far a header may reach. `seg` bounds what can be read (the data, or
// the first segment of a chained mbuf); `pkt` is where the packet really
// ends, for the IP length checks. Inside a tunnel both are clipped to what
// the outer UDP length declares.
struct Extent {
  uint32_t seg;
  uint32_t pkt;
};

// For a header [at, at + n) whose length field says n, inside an IP packet
// ending at ip_end: kNone if it is all there; else `bad` when the IP packet
// itself is too short for what the field claims, `truncated` when only the
// data is.
R check_claimed(uint32_t at, uint32_t n, uint32_t ip_end, Extent x, R truncated, R bad) {
  if (at + n <= std::min(ip_end, x.seg)) return R::kNone;
  return at + n > ip_end ? bad : truncated;
}

// The parser proper. kOuter instantiates the frame as received, which may
// carry VXLAN (when `md` is non-null); the inner frame is the same code
// with decapsulation compiled out, so nothing recurses and the compiler can
// inline the whole walk into parse_packet.
template <bool kOuter>
DropReason parse_frame(const uint8_t* d, uint32_t l2, Extent x, FrameLayers& f, PktMeta* md);

// The outer UDP payload at `at` is a VXLAN header and an Ethernet frame
// reaching to `udp_end`. Out of line, with the inner frame's walk inlined
// into it, so that the outer walk stays small enough to inline whole.
[[gnu::noinline]] DropReason parse_vxlan(const uint8_t* d, uint32_t at, uint32_t udp_end, Extent x, FrameLayers& outer,
                       PktMeta& md) {
  x = {std::min(x.seg, udp_end), std::min(x.pkt, udp_end)};
  if (at + kVxlanLen > x.seg) return R::truncated_vxlan;
  if (d[at + offsetof(rte_vxlan_hdr, vx_flags)] != kVxlanFlagI) return R::bad_vxlan_flags;
  md.vni = load_be32(d + at + offsetof(rte_vxlan_hdr, vx_vni)) >> kVxlanVniShift;
  outer.flags |= kFlagVxlan;
  return parse_frame<false>(d, at + kVxlanLen, x, md.inner, nullptr);
}

// The transport header at l4 of an IP packet ending at ip_end. `tunnel` is
// non-null when a UDP/4789 payload should be parsed as VXLAN.
template <bool kOuter>
DropReason parse_l4(const uint8_t* d, uint32_t l4, uint32_t ip_end, Extent x, FrameLayers& f,
                    PktMeta* tunnel) {
  f.l4 = static_cast<uint16_t>(l4);
  const uint32_t end = std::min(ip_end, x.seg);  // the fixed headers must fit here
  switch (f.l4_proto) {
    case IPPROTO_TCP: {
      if (l4 + kTcpMinLen > end) return R::truncated_tcp;
      const uint32_t hl = (d[l4 + offsetof(rte_tcp_hdr, data_off)] >> 4) * 4u;
      if (hl < kTcpMinLen) return R::bad_tcp_offset;
      return check_claimed(l4, hl, ip_end, x, R::truncated_tcp, R::bad_tcp_offset);
    }
    case IPPROTO_UDP: {
      if (l4 + kUdpLen > end) return R::truncated_udp;
      if (f.flags & kFlagFragment) return R::kNone;  // the length is the whole datagram's
      const uint32_t udp_len = load_be16(d + l4 + offsetof(rte_udp_hdr, dgram_len));
      if (udp_len < kUdpLen || l4 + udp_len > ip_end) return R::bad_udp_length;
      if constexpr (kOuter) {
        if (tunnel != nullptr && load_net16(d + l4 + offsetof(rte_udp_hdr, dst_port)) == kNetVxlanPort)
          return parse_vxlan(d, l4 + kUdpLen, l4 + udp_len, x, f, *tunnel);
      }
      return R::kNone;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return l4 + kIcmpLen > end ? R::truncated_icmp : R::kNone;
    default:
      return R::kNone;  // a protocol we forward without looking inside
  }
}

template <bool kOuter>
DropReason parse_ipv4(const uint8_t* d, uint32_t l3, Extent x, FrameLayers& f, PktMeta* tunnel) {
  if (l3 + kIpv4MinLen > x.seg) return R::truncated_ipv4;
  const uint8_t* ip = d + l3;
  const uint8_t version_ihl = ip[offsetof(rte_ipv4_hdr, version_ihl)];
  if ((version_ihl >> 4) != 4) return R::bad_ipv4_version;
  const uint32_t hl = (version_ihl & RTE_IPV4_HDR_IHL_MASK) * uint32_t{RTE_IPV4_IHL_MULTIPLIER};
  if (hl < kIpv4MinLen) return R::bad_ipv4_ihl;
  const uint32_t total = load_be16(ip + offsetof(rte_ipv4_hdr, total_length));
  if (total < hl) return R::bad_ipv4_total_length;
  if (l3 + hl > x.seg) return R::truncated_ipv4;  // ends inside the options

  f.l3_type = L3Type::kIpv4;
  f.l4_proto = ip[offsetof(rte_ipv4_hdr, next_proto_id)];
  if (hl > kIpv4MinLen) f.flags |= kFlagIpOptions;
  const uint32_t ip_end = l3 + total;
  const uint16_t frag = load_net16(ip + offsetof(rte_ipv4_hdr, fragment_offset));
  if (frag & kNetFragMask) {
    f.flags |= kFlagFragment;
    tunnel = nullptr;
    if (frag & kNetFragOffset) {
      f.flags |= kFlagLaterFragment;
      return ip_end > x.pkt ? R::bad_ipv4_total_length : R::kNone;
    }
  }
  if (R r = parse_l4<kOuter>(d, l3 + hl, ip_end, x, f, tunnel); r != R::kNone) return r;
  return ip_end > x.pkt ? R::bad_ipv4_total_length : R::kNone;
}

template <bool kOuter>
DropReason parse_ipv6(const uint8_t* d, uint32_t l3, Extent x, FrameLayers& f, PktMeta* tunnel) {
  if (l3 + kIpv6Len > x.seg) return R::truncated_ipv6;
  const uint8_t* ip = d + l3;
  if ((ip[0] >> 4) != 6) return R::bad_ipv6_version;
  const uint32_t ip_end = l3 + kIpv6Len + load_be16(ip + offsetof(rte_ipv6_hdr, payload_len));
  f.l3_type = L3Type::kIpv6;

  uint8_t next = ip[offsetof(rte_ipv6_hdr, proto)];
  uint32_t at = l3 + kIpv6Len;
  for (uint32_t count = 0;; ++count) {
    if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
        next != IPPROTO_FRAGMENT)
      break;
    // Hop-by-hop options may only come first (RFC 8200 §4.1).
    if (count == kMaxIpv6ExtHeaders || (next == IPPROTO_HOPOPTS && count != 0))
      return R::bad_ipv6_ext_header;
    if (at + kIpv6ExtUnit > std::min(ip_end, x.seg)) return R::truncated_ipv6;
    f.flags |= kFlagIpOptions;
    const uint8_t* ext = d + at;
    if (next == IPPROTO_FRAGMENT) {
      const uint16_t frag = load_be16(ext + offsetof(rte_ipv6_fragment_ext, frag_data));
      next = ext[offsetof(rte_ipv6_fragment_ext, next_header)];
      at += sizeof(rte_ipv6_fragment_ext);
      // An atomic fragment (offset 0, no more fragments) is a whole packet (RFC 6946).
      if (frag & RTE_IPV6_FRAG_USED_MASK) {
        f.flags |= kFlagFragment;
        tunnel = nullptr;
        if (RTE_IPV6_GET_FO(frag) != 0) {
          f.flags |= kFlagLaterFragment;
          f.l4_proto = next;
          return ip_end > x.pkt ? R::bad_ipv6_payload_length : R::kNone;
        }
      }
      continue;
    }
    const uint32_t len = ipv6_ext_len(ext[offsetof(Ipv6ExtHeader, hdr_ext_len)]);
    if (R r = check_claimed(at, len, ip_end, x, R::truncated_ipv6, R::bad_ipv6_ext_header);
        r != R::kNone)
      return r;
    next = ext[offsetof(Ipv6ExtHeader, next_header)];
    at += len;
  }
  f.l4_proto = next;
  if (R r = parse_l4<kOuter>(d, at, ip_end, x, f, tunnel); r != R::kNone) return r;
  return ip_end > x.pkt ? R::bad_ipv6_payload_length : R::kNone;
}

DropReason parse_arp(const uint8_t* d, uint32_t l3, Extent x, FrameLayers& f) {
  if (l3 + kArpFixedLen > x.seg) return R::truncated_arp;
  if (load_be32(d + l3) != kArpEthIpv4Prefix ||
      load_be16(d + l3 + offsetof(rte_arp_hdr, arp_hlen)) != kArpEthIpv4Lens)
    return R::bad_arp;
  if (l3 + sizeof(rte_arp_hdr) > x.seg) return R::truncated_arp;
  f.l3_type = L3Type::kArp;
  return R::kNone;
}

template <bool kOuter>
DropReason parse_frame(const uint8_t* d, uint32_t l2, Extent x, FrameLayers& f, PktMeta* md) {
  f = FrameLayers{};
  f.l2 = static_cast<uint16_t>(l2);
  if (l2 + kEthLen > x.seg) return R::truncated_eth;
  uint32_t at = l2 + kEthLen;
  uint16_t type = load_net16(d + at - sizeof(rte_be16_t));
  for (uint32_t tags = 0; type == kNetVlan || type == kNetQinq; ++tags) {
    if (tags == kMaxVlanTags) return R::too_many_vlans;
    if (at + kVlanLen > x.seg) return R::truncated_vlan;
    if (tags == 0) f.vlan_tci = load_be16(d + at + offsetof(rte_vlan_hdr, vlan_tci));
    type = load_net16(d + at + offsetof(rte_vlan_hdr, eth_proto));
    at += kVlanLen;
    f.flags |= kFlagVlan;
  }
  f.l3 = static_cast<uint16_t>(at);
  f.ethertype = rte_be_to_cpu_16(type);
  switch (type) {
    case kNetIpv4:
      return parse_ipv4<kOuter>(d, at, x, f, md);
    case kNetIpv6:
      return parse_ipv6<kOuter>(d, at, x, f, md);
    case kNetArp:
      return parse_arp(d, at, x, f);
    default:
      return R::unsupported_ethertype;
  }
}

// --- flow hash ----------------------------------------------------------------

constexpr uint32_t kFlowHashSeed = 0x9e3779b9;

// CRC32-C of 8 bytes: the SSE4.2 instruction when the build targets it
// (DPDK's own flags require it on x86), else DPDK's dispatching version.
inline uint32_t crc64(uint64_t v, uint32_t h) {
#if defined(__SSE4_2__)
  return static_cast<uint32_t>(_mm_crc32_u64(h, v));
#else
  return rte_hash_crc_8byte(v, h);
#endif
}

// Source and destination port of a TCP/UDP packet in network order, or zeros
// when there are none to use: fragments hash without ports so that every
// fragment of a datagram lands with its first.
void l4_ports(const uint8_t* d, const FrameLayers& f, uint16_t& src, uint16_t& dst) {
  src = dst = 0;
  if ((f.l4_proto == IPPROTO_TCP || f.l4_proto == IPPROTO_UDP) && f.l4 != 0 &&
      !(f.flags & kFlagFragment)) {
    src = load_net16(d + f.l4);
    dst = load_net16(d + f.l4 + sizeof src);
  }
}

// Each endpoint as one integer (address above port): ordering the two makes
// the hash symmetric, and min/max compile to conditional moves.
uint32_t hash_ipv4(const uint8_t* d, const FrameLayers& f) {
  uint32_t sa, da;
  std::memcpy(&sa, d + f.l3 + offsetof(rte_ipv4_hdr, src_addr), sizeof sa);
  std::memcpy(&da, d + f.l3 + offsetof(rte_ipv4_hdr, dst_addr), sizeof da);
  uint16_t sp, dp;
  l4_ports(d, f, sp, dp);
  const uint64_t a = (uint64_t{sa} << 16) | sp;
  const uint64_t b = (uint64_t{da} << 16) | dp;
  const uint64_t lo = std::min(a, b) | (uint64_t{f.l4_proto} << 48);
  return crc64(std::max(a, b), crc64(lo, kFlowHashSeed));
}

// Kept out of line: its eight live 64-bit values would otherwise make every
// caller save registers, IPv4 included.
[[gnu::noinline]] uint32_t hash_ipv6(const uint8_t* d, const FrameLayers& f) {
  uint64_t s[2], t[2];
  std::memcpy(s, d + f.l3 + offsetof(rte_ipv6_hdr, src_addr), sizeof s);
  std::memcpy(t, d + f.l3 + offsetof(rte_ipv6_hdr, dst_addr), sizeof t);
  uint16_t sp, dp;
  l4_ports(d, f, sp, dp);
  const bool swap = s[0] != t[0] ? s[0] > t[0] : (s[1] != t[1] ? s[1] > t[1] : sp > dp);
  const uint64_t* lo = swap ? t : s;
  const uint64_t* hi = swap ? s : t;
  const uint64_t ports = swap ? ((uint64_t{dp} << 16) | sp) : ((uint64_t{sp} << 16) | dp);
  uint32_t h = crc64(lo[0], kFlowHashSeed);
  h = crc64(lo[1], h);
  h = crc64(hi[0], h);
  h = crc64(hi[1], h);
  return crc64(ports | (uint64_t{f.l4_proto} << 32), h);
}

uint32_t hash_macs(const uint8_t* d, const FrameLayers& f) {
  uint64_t dst = 0, src = 0;
  std::memcpy(&dst, d + f.l2 + offsetof(rte_ether_hdr, dst_addr), RTE_ETHER_ADDR_LEN);
  std::memcpy(&src, d + f.l2 + offsetof(rte_ether_hdr, src_addr), RTE_ETHER_ADDR_LEN);
  const uint64_t lo = std::min(dst, src) | (uint64_t{f.ethertype} << 48);
  return crc64(std::max(dst, src), crc64(lo, kFlowHashSeed));
}

}  // namespace

uint32_t flow_hash(const uint8_t* data, const FrameLayers& layers) noexcept {
  switch (layers.l3_type) {
    case L3Type::kIpv4:
      return hash_ipv4(data, layers);
    case L3Type::kIpv6:
      return hash_ipv6(data, layers);
    default:
      return hash_macs(data, layers);
  }
}

DropReason parse_packet(const uint8_t* data, uint32_t seg_len, uint32_t pkt_len, PktMeta& md,
                        bool vxlan) noexcept {
  seg_len = std::min(seg_len, kMaxOffset);
  const Extent x{seg_len, std::max(std::min(pkt_len, kMaxOffset), seg_len)};
  md.inner = FrameLayers{};
  md.vni = 0;
  md.flow_hash = kFlowHashUnset;
  const DropReason r = parse_frame<true>(data, 0, x, md.outer, vxlan ? &md : nullptr);
  if (r != R::kNone) return r;
  return R::kNone;
}

DropReason parse_packet(const uint8_t* data, uint32_t len, PktMeta& md, bool vxlan) noexcept {
  return parse_packet(data, len, len, md, vxlan);
}

// --- the stage ----------------------------------------------------------------

namespace {
// Packet data straight from a NIC's DMA may be in no cache: fetch it a few
// packets ahead, as DPDK's l3fwd (3) and VPP (2-4) do. perf/parse_bench's
// stage benchmarks cannot tell 0 to 8 apart on a 2-core VM, where the
// 4096 test mbufs stay in L3; revisit with a real NIC.
constexpr uint16_t kPrefetchAhead = 4;

void prefetch_headers(rte_mbuf* m) { rte_prefetch0(rte_pktmbuf_mtod(m, const void*)); }
}  // namespace

ParseStage::ParseStage() noexcept : StageWith({"parsed"}) { vxlan_port_.fill(true); }

void ParseStage::set_vxlan_port(uint16_t port, bool enabled) noexcept {
  if (port < vxlan_port_.size()) vxlan_port_[port] = enabled;
}

void ParseStage::set_vxlan_all_ports(bool enabled) noexcept { vxlan_port_.fill(enabled); }

void ParseStage::process(StageCtx& /*ctx*/, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t i = 0; i < std::min(n, kPrefetchAhead); ++i) prefetch_headers(pkts[i]);
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) prefetch_headers(pkts[i + kPrefetchAhead]);
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const bool vxlan = md->in_port < vxlan_port_.size() && vxlan_port_[md->in_port];
    const DropReason r = parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                                      rte_pktmbuf_pkt_len(m), *md, vxlan);
    md->out_port = 0;
    md->generation = 0;
    md->rewrite = 0;
    md->qos = 0;
    md->qos_shaped = 0;
    md->xlate_conn = kNoConn;
    if (r == R::kNone) {
      md->drop_reason = 0;
      send(m, ParseNext::kParsed);
    } else {
      drop(m, r);
    }
  }
}

}  // namespace weft::dp
