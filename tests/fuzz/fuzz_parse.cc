// libFuzzer target for the packet parser (dataplane/pipeline/parse.h).
//
// Any bytes, parsed with and without VXLAN decapsulation and as the first
// segment of a longer chain. ASan and UBSan catch a read past the input
// (libFuzzer hands over an exactly sized heap copy); the checks below catch
// a parser that accepts a packet but describes it wrongly: offsets outside
// the data or out of order, inconsistent flags, and a flow hash that is not
// the same with the endpoints swapped.

#include <netinet/in.h>
#include <rte_ether.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace weft::dp;

// What a parsed frame's layers promise, within `len` readable bytes.
void check_frame(const uint8_t* d, uint32_t len, const FrameLayers& f) {
  const uint32_t l2_len = f.l3 - f.l2;
  FUZZ_CHECK(f.l3 > f.l2 && f.l3 <= len);
  FUZZ_CHECK(l2_len == 14 || l2_len == 18 || l2_len == 22);
  FUZZ_CHECK(((f.flags & kFlagVlan) != 0) == (l2_len > 14));
  FUZZ_CHECK(!(f.flags & kFlagLaterFragment) || (f.flags & kFlagFragment));

  uint32_t min_l3 = 0;
  switch (f.l3_type) {
    case L3Type::kIpv4: min_l3 = 20; FUZZ_CHECK(f.ethertype == RTE_ETHER_TYPE_IPV4); break;
    case L3Type::kIpv6: min_l3 = 40; FUZZ_CHECK(f.ethertype == RTE_ETHER_TYPE_IPV6); break;
    case L3Type::kArp: min_l3 = 28; FUZZ_CHECK(f.ethertype == RTE_ETHER_TYPE_ARP); break;
    case L3Type::kNone: FUZZ_CHECK(!"an accepted frame has a network layer");
  }
  FUZZ_CHECK(f.l3 + min_l3 <= len);
  if (f.l3_type == L3Type::kArp || (f.flags & kFlagLaterFragment)) {
    FUZZ_CHECK(f.l4 == 0);
    FUZZ_CHECK(f.l3_type != L3Type::kArp || f.flags == 0 || f.flags == kFlagVlan);
    return;
  }
  FUZZ_CHECK(f.l4 >= f.l3 + min_l3 && f.l4 <= len);
  switch (f.l4_proto) {
    case IPPROTO_TCP:
      FUZZ_CHECK(f.l4 + 20u <= len);
      FUZZ_CHECK((d[f.l4 + 12] >> 4) >= 5 && f.l4 + (d[f.l4 + 12] >> 4) * 4u <= len);
      break;
    case IPPROTO_UDP:
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      FUZZ_CHECK(f.l4 + 8u <= len);
      break;
  }
}

void check_packet(const uint8_t* d, uint32_t len, const PktMeta& md, bool vxlan) {
  check_frame(d, len, md.outer);
  if (md.outer.flags & kFlagVxlan) {
    FUZZ_CHECK(vxlan);
    FUZZ_CHECK(md.outer.l4_proto == IPPROTO_UDP && !(md.outer.flags & kFlagFragment));
    FUZZ_CHECK(md.inner.l2 == md.outer.l4 + kVxlanEncapLen);
    FUZZ_CHECK(md.vni <= kVxlanMaxVni);
    FUZZ_CHECK(!(md.inner.flags & kFlagVxlan));
    check_frame(d, len, md.inner);
  } else {
    FUZZ_CHECK(md.vni == 0 && md.inner.l2 == 0 && md.inner.l3 == 0 && md.inner.l4 == 0);
  }
  FUZZ_CHECK(md.flow_hash == kFlowHashUnset);
}

// The same packet in the other direction: addresses (and ports, and MACs)
// swapped. It must parse alike and hash the same.
void check_symmetric(const uint8_t* d, uint32_t len, const PktMeta& md) {
  const FrameLayers& f = md.outer;
  std::vector<uint8_t> rev(d, d + len);
  const auto swap_ranges = [&](uint32_t x, uint32_t y, uint32_t n) {
    std::swap_ranges(rev.begin() + x, rev.begin() + x + n, rev.begin() + y);
  };
  swap_ranges(f.l2, f.l2 + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
  if (f.l3_type == L3Type::kIpv4) swap_ranges(f.l3 + 12, f.l3 + 16, 4);
  if (f.l3_type == L3Type::kIpv6) swap_ranges(f.l3 + 8, f.l3 + 24, 16);
  if ((f.l4_proto == IPPROTO_TCP || f.l4_proto == IPPROTO_UDP) && f.l4 != 0)
    swap_ranges(f.l4, f.l4 + 2, 2);
  PktMeta back{};
  FUZZ_CHECK(parse_packet(rev.data(), len, back, false) == DropReason::kNone);
  FUZZ_CHECK(flow_hash(rev.data(), back.outer) == flow_hash(d, md.outer));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The parser clamps to 64 KiB (offsets are 16-bit); do the same here so
  // the checks compare against what it saw.
  const uint32_t len = size < UINT16_MAX ? static_cast<uint32_t>(size) : UINT16_MAX;
  for (const bool vxlan : {false, true}) {
    PktMeta md;
    std::memset(static_cast<void*>(&md), 0xa5, sizeof md);
    const DropReason r = parse_packet(data, len, md, vxlan);
    FUZZ_CHECK(static_cast<size_t>(r) < kDropReasonCount);
    if (r != DropReason::kNone) continue;
    check_packet(data, len, md, vxlan);
    if (!vxlan) check_symmetric(data, len, md);
  }
  // As the first segment of a chain: reads stay within the segment.
  PktMeta chained{};
  if (parse_packet(data, len, len + 1500, chained, true) == DropReason::kNone)
    check_packet(data, len, chained, true);
  return 0;
}
