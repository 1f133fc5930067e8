#include "dataplane/l3/icmp_error.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/wire.h"

namespace weft::dp {
namespace {

constexpr uint32_t kIpv4MinHdrLen = sizeof(rte_ipv4_hdr);
constexpr uint32_t kIcmpHdrLen = sizeof(rte_icmp_hdr);
constexpr uint32_t kQuoteMinPayload = 8;  // RFC 792: "the first 64 bits of data"
static_assert(kIcmpErrorHeadersLen == kIpv4MinHdrLen + kIcmpHdrLen);

// ICMP types (RFC 792, 950, 1256) that are queries or their replies, not
// errors: the only ICMP an error may be sent about.
bool icmp_is_informational(uint8_t type) {
  switch (type) {
    case 0:   // echo reply
    case 8:   // echo request
    case 9:   // router advertisement
    case 10:  // router solicitation
    case 13:  // timestamp
    case 14:  // timestamp reply
    case 15:  // information request
    case 16:  // information reply
    case 17:  // address mask request
    case 18:  // address mask reply
      return true;
    default:
      return false;
  }
}

// Not one host's address, as a source (RFC 1812 §4.3.2.7, §5.3.7).
bool bad_source(uint32_t a) {
  const uint32_t first = a >> 24;
  return first == 0 || first == 127 || first >= 224;
}
// Broadcast, multicast or class E, as a destination.
bool bad_destination(uint32_t a) {
  return (a >> 24) >= 224;
}

struct TypeCode {
  uint8_t type, code;
};
TypeCode type_code(IcmpErrorKind kind) {
  switch (kind) {
    case IcmpErrorKind::kTimeExceeded:
      return {kIcmpTimeExceeded, kIcmpCodeTtlExceeded};
    case IcmpErrorKind::kNetUnreachable:
      return {kIcmpDestUnreachable, kIcmpCodeNetUnreachable};
    case IcmpErrorKind::kHostUnreachable:
      return {kIcmpDestUnreachable, kIcmpCodeHostUnreachable};
    case IcmpErrorKind::kFragmentationNeeded:
      return {kIcmpDestUnreachable, kIcmpCodeFragmentationNeeded};
  }
  return {kIcmpDestUnreachable, kIcmpCodeNetUnreachable};
}

// The offending IPv4 header's length, or 0 when it is not one whole within
// data[0, len).
uint32_t ipv4_header_len(const uint8_t* data, uint32_t len, const FrameLayers& f) {
  if (f.l3_type != L3Type::kIpv4 || f.l2 + RTE_ETHER_HDR_LEN > f.l3 || len < kIpv4MinHdrLen ||
      f.l3 > len - kIpv4MinHdrLen)
    return 0;
  const uint8_t* ip = data + f.l3;
  if ((ip[0] >> 4) != 4) return 0;
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < kIpv4MinHdrLen || ihl > len - f.l3) return 0;
  return ihl;
}

}  // namespace

bool icmp_error_allowed(const uint8_t* data, uint32_t len, const FrameLayers& f) noexcept {
  const uint32_t ihl = ipv4_header_len(data, len, f);
  if (ihl == 0) return false;
  if (data[f.l2] & 0x01) return false;  // Ethernet group bit: broadcast or multicast
  const uint8_t* ip = data + f.l3;
  if (load_be16(ip + offsetof(rte_ipv4_hdr, fragment_offset)) & RTE_IPV4_HDR_OFFSET_MASK)
    return false;
  if (bad_source(load_be32(ip + offsetof(rte_ipv4_hdr, src_addr)))) return false;
  if (bad_destination(load_be32(ip + offsetof(rte_ipv4_hdr, dst_addr)))) return false;
  if (ip[offsetof(rte_ipv4_hdr, next_proto_id)] == IPPROTO_ICMP) {
    // The type byte must be there to tell a query from an error.
    const uint32_t total = load_be16(ip + offsetof(rte_ipv4_hdr, total_length));
    if (total <= ihl || ihl >= len - f.l3) return false;
    if (!icmp_is_informational(ip[ihl])) return false;
  }
  return true;
}

uint32_t write_icmp_error(const uint8_t* data, uint32_t len, const FrameLayers& f,
                          IcmpErrorKind kind, uint16_t next_hop_mtu,
                          const rte_ether_addr& router_mac, uint32_t gateway_ip, uint8_t* out,
                          uint32_t out_cap) noexcept {
  const uint32_t ihl = ipv4_header_len(data, len, f);
  if (ihl == 0) return 0;
  const uint8_t* offending = data + f.l3;
  const uint32_t total = load_be16(offending + offsetof(rte_ipv4_hdr, total_length));
  if (total < ihl) return 0;

  // As much of the packet as there is, up to 576 bytes of error, and as
  // `out` holds; but never less than RFC 792's header and 64 bits.
  const uint32_t have = std::min(total, len - f.l3);
  const uint32_t room = out_cap > RTE_ETHER_HDR_LEN + kIcmpErrorHeadersLen
                            ? out_cap - RTE_ETHER_HDR_LEN - kIcmpErrorHeadersLen
                            : 0;
  const uint32_t quote = std::min({have, kIcmpErrorMaxIpLen - kIcmpErrorHeadersLen, room});
  if (quote < ihl + std::min(kQuoteMinPayload, have - ihl)) return 0;
  const uint32_t ip_len = kIcmpErrorHeadersLen + quote;

  auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
  std::memcpy(&eth->dst_addr, data + f.l2 + offsetof(rte_ether_hdr, src_addr), RTE_ETHER_ADDR_LEN);
  eth->src_addr = router_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = kIcmpErrorTos;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len));
  ip->packet_id = 0;
  ip->fragment_offset = 0;
  ip->time_to_live = kIcmpErrorTtl;
  ip->next_proto_id = IPPROTO_ICMP;
  ip->hdr_checksum = 0;
  ip->src_addr = rte_cpu_to_be_32(gateway_ip);
  std::memcpy(&ip->dst_addr, offending + offsetof(rte_ipv4_hdr, src_addr), sizeof ip->dst_addr);

  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  const TypeCode tc = type_code(kind);
  icmp->icmp_type = tc.type;
  icmp->icmp_code = tc.code;
  icmp->icmp_cksum = 0;
  // The header's second word: "unused" (zero) but for RFC 1191's MTU.
  icmp->icmp_ident = 0;
  icmp->icmp_seq_nb =
      rte_cpu_to_be_16(kind == IcmpErrorKind::kFragmentationNeeded ? next_hop_mtu : uint16_t{0});
  std::memcpy(icmp + 1, offending, quote);

  ip->hdr_checksum = rte_ipv4_cksum(ip);
  icmp->icmp_cksum = static_cast<rte_be16_t>(~rte_raw_cksum(icmp, kIcmpHdrLen + quote));
  return RTE_ETHER_HDR_LEN + ip_len;
}

}  // namespace weft::dp
