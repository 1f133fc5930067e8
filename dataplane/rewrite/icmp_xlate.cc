#include "dataplane/rewrite/icmp_xlate.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dataplane/pipeline/wire.h"
#include "dataplane/rewrite/checksum.h"

namespace weft::dp {
namespace {

constexpr size_t kIcmpChecksum = offsetof(rte_icmp_hdr, icmp_cksum);
constexpr size_t kIcmpIdent = offsetof(rte_icmp_hdr, icmp_ident);
constexpr size_t kUdpChecksum = offsetof(rte_udp_hdr, dgram_cksum);
constexpr size_t kTcpChecksum = offsetof(rte_tcp_hdr, cksum);

// Writes `now` over the field at `at`, patching each checksum in `sums`
// that covers it (null ones skipped).
template <typename T>
void replace(uint8_t* at, T now, std::initializer_list<uint8_t*> sums) {
  const T old = load<T>(at);
  if (old == now) return;
  for (uint8_t* s : sums) {
    if (s == nullptr) continue;
    if constexpr (sizeof(T) == 4) csum_replace32(s, old, now);
    else csum_replace16(s, old, now);
  }
  store(at, now);
}

uint32_t ipv4_ihl(const uint8_t* ip, uint32_t avail) {
  if (avail < sizeof(rte_ipv4_hdr) || (ip[0] >> 4) != 4) return 0;
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  return ihl >= sizeof(rte_ipv4_hdr) && ihl <= avail ? ihl : 0;
}

bool is_echo(uint8_t type) {
  return type == RTE_IP_ICMP_ECHO_REQUEST || type == RTE_IP_ICMP_ECHO_REPLY;
}

}  // namespace

IcmpXlateResult translate_icmp_error(uint8_t* ip, uint32_t len, const QuoteTuple& to) noexcept {
  const uint32_t ihl = ipv4_ihl(ip, len);
  if (ihl == 0 || ip[offsetof(rte_ipv4_hdr, next_proto_id)] != IPPROTO_ICMP) return IcmpXlateResult::kMalformed;
  const uint32_t total = std::min<uint32_t>(load_be16(ip + offsetof(rte_ipv4_hdr, total_length)), len);
  if (total < ihl + sizeof(rte_icmp_hdr)) return IcmpXlateResult::kMalformed;
  uint8_t* icmp = ip + ihl;
  const uint32_t icmp_len = total - ihl;
  uint8_t* inner = icmp + sizeof(rte_icmp_hdr);
  const uint32_t inner_avail = icmp_len - static_cast<uint32_t>(sizeof(rte_icmp_hdr));
  const uint32_t inner_ihl = ipv4_ihl(inner, inner_avail);
  if (inner_ihl == 0) return IcmpXlateResult::kMalformed;
  const uint8_t proto = inner[offsetof(rte_ipv4_hdr, next_proto_id)];
  uint8_t* l4 = inner + inner_ihl;
  const uint32_t l4_avail = inner_avail - inner_ihl;
  const bool ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP;
  if (ports && l4_avail < 4) return IcmpXlateResult::kMalformed;
  if (proto == IPPROTO_ICMP && (l4_avail < kIcmpIdent + 2 || !is_echo(l4[0]))) return IcmpXlateResult::kMalformed;
  const rte_be32_t quoted_src = load<rte_be32_t>(inner + kIpSrc);
  const rte_be32_t quoted_dst = load<rte_be32_t>(inner + kIpDst);
  // The error goes to the quoted packet's sender.
  if (load<rte_be32_t>(ip + kIpDst) != quoted_src) return IcmpXlateResult::kMalformed;
  if (static_cast<uint16_t>(rte_raw_cksum(icmp, icmp_len)) != 0xffff) return IcmpXlateResult::kBadChecksum;

  // The quote's transport checksum, where the quote holds one to patch.
  uint8_t* l4sum = nullptr;
  if (proto == IPPROTO_UDP && l4_avail >= kUdpChecksum + 2 && load<uint16_t>(l4 + kUdpChecksum) != 0)
    l4sum = l4 + kUdpChecksum;
  else if (proto == IPPROTO_TCP && l4_avail >= kTcpChecksum + 2)
    l4sum = l4 + kTcpChecksum;

  uint8_t* inner_sum = inner + kIpChecksum;
  replace(inner + kIpSrc, to.src, {inner_sum, l4sum});
  replace(inner + kIpDst, to.dst, {inner_sum, l4sum});
  if (ports) {
    replace(l4, to.sport, {l4sum});
    replace(l4 + 2, to.dport, {l4sum});
  } else if (proto == IPPROTO_ICMP) {
    uint8_t* echo_sum = l4_avail >= kIcmpChecksum + 2 ? l4 + kIcmpChecksum : nullptr;
    replace(l4 + kIcmpIdent, to.sport, {echo_sum});
  }

  uint8_t* outer_sum = ip + kIpChecksum;
  replace(ip + kIpDst, to.src, {outer_sum});
  if (load<rte_be32_t>(ip + kIpSrc) == quoted_dst) replace(ip + kIpSrc, to.dst, {outer_sum});

  std::memset(icmp + kIcmpChecksum, 0, 2);
  const auto sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
  std::memcpy(icmp + kIcmpChecksum, &sum, sizeof sum);
  return IcmpXlateResult::kOk;
}

}  // namespace weft::dp
