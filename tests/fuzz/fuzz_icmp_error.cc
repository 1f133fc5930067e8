// libFuzzer target for the router's ICMP errors (dataplane/l3/icmp_error.h).
//
// Any bytes, parsed as the stages will see them (outer frame, and the inner
// one of a VXLAN packet); for every IPv4 layer found, icmp_error_allowed is
// asked and an error of each kind written, into a buffer of the full size
// and into one cut to a size taken from the input. ASan and UBSan catch a
// read past the input or a write past the buffer (both sized exactly); the
// checks below catch an error frame that is wrong: longer than 576 bytes of
// IP, not parsed as ICMP from the gateway to the offender, a checksum that
// does not verify, a quote that is not the offender's bytes.

#include <netinet/in.h>
#include <rte_ether.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/l3/icmp_error.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace weft::dp;

constexpr uint32_t kGateway = 0x0a010101;  // 10.1.1.1
const rte_ether_addr kRouterMac = {{0x02, 0xfe, 0, 0, 0, 1}};

uint16_t folded(const uint8_t* p, uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < n; i += 2) sum += load_be16(p + i);
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

void check_error(const uint8_t* data, const FrameLayers& f, const uint8_t* e, uint32_t n) {
  FUZZ_CHECK(n >= RTE_ETHER_HDR_LEN + kIcmpErrorHeadersLen + 20);
  FUZZ_CHECK(n <= kIcmpErrorMaxFrameLen);
  PktMeta md{};
  FUZZ_CHECK(parse_packet(e, n, md, false) == DropReason::kNone);
  FUZZ_CHECK(md.outer.l3 == RTE_ETHER_HDR_LEN && md.outer.l4_proto == IPPROTO_ICMP);
  const uint8_t* ip = e + RTE_ETHER_HDR_LEN;
  FUZZ_CHECK(load_be16(ip + 2) == n - RTE_ETHER_HDR_LEN);
  FUZZ_CHECK(folded(ip, 20) == 0xffff);
  FUZZ_CHECK(load_be32(ip + 12) == kGateway);
  FUZZ_CHECK(std::memcmp(ip + 16, data + f.l3 + 12, 4) == 0);  // to the offender's source
  FUZZ_CHECK(std::memcmp(e, data + f.l2 + 6, 6) == 0);         // at its MAC
  FUZZ_CHECK(folded(ip + 20, n - RTE_ETHER_HDR_LEN - 20) == 0xffff);
  const uint32_t quote = n - RTE_ETHER_HDR_LEN - kIcmpErrorHeadersLen;
  FUZZ_CHECK(std::memcmp(ip + kIcmpErrorHeadersLen, data + f.l3, quote) == 0);
}

void errors_about(const uint8_t* data, uint32_t len, const FrameLayers& f, uint32_t small_cap) {
  if (f.l3_type != L3Type::kIpv4) return;
  (void)icmp_error_allowed(data, len, f);
  for (const IcmpErrorKind kind :
       {IcmpErrorKind::kTimeExceeded, IcmpErrorKind::kNetUnreachable,
        IcmpErrorKind::kHostUnreachable, IcmpErrorKind::kFragmentationNeeded}) {
    std::vector<uint8_t> out(kIcmpErrorMaxFrameLen);
    const uint32_t n = write_icmp_error(data, len, f, kind, 1400, kRouterMac, kGateway, out.data(),
                                        static_cast<uint32_t>(out.size()));
    FUZZ_CHECK(n != 0);  // the parser accepted the header: an error can always be made
    check_error(data, f, out.data(), n);

    std::vector<uint8_t> small(small_cap);
    const uint32_t m =
        write_icmp_error(data, len, f, kind, 1400, kRouterMac, kGateway, small.data(), small_cap);
    FUZZ_CHECK(m <= small_cap && m <= n);
    if (m != 0) check_error(data, f, small.data(), m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint32_t len = size < UINT16_MAX ? static_cast<uint32_t>(size) : UINT16_MAX;
  const uint32_t small_cap = len == 0 ? 0 : data[len - 1] + 40u;
  PktMeta md{};
  if (parse_packet(data, len, md, true) != DropReason::kNone) return 0;
  errors_about(data, len, md.outer, small_cap);
  if (md.outer.flags & kFlagVxlan) errors_about(data, len, md.inner, small_cap);
  return 0;
}
