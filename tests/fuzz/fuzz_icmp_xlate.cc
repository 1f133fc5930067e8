// libFuzzer target for the translation of ICMP errors through NAT
// (dataplane/rewrite/icmp_xlate.h), behind the real parser: any bytes the
// parser accepts as IPv4 (plain, or VXLAN's inner frame) are translated
// in an exactly sized heap copy (ASan: no read or write past it) to a
// tuple hashed from the input. A translated error's ICMP checksum verifies,
// its quote carries the tuple, and it goes to the quote's new source;
// anything else is refused whole, its bytes untouched.

#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/rewrite/icmp_xlate.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace weft::dp;

uint16_t folded(const uint8_t* p, uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < n; i += 2) sum += load_be16(p + i);
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint32_t raw32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void check_layer(const uint8_t* data, uint32_t size, const FrameLayers& f, const QuoteTuple& to) {
  if (f.l3_type != L3Type::kIpv4 || f.l3 >= size) return;
  const uint32_t len = size - f.l3;
  std::vector<uint8_t> copy(data + f.l3, data + size);
  const IcmpXlateResult r = translate_icmp_error(copy.data(), len, to);
  if (r != IcmpXlateResult::kOk) {
    FUZZ_CHECK(std::memcmp(copy.data(), data + f.l3, len) == 0);
    return;
  }
  const uint8_t* ip = copy.data();
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  uint32_t total = load_be16(ip + 2);
  if (total > len) total = len;
  FUZZ_CHECK(total >= ihl + 8 + 20);
  FUZZ_CHECK(folded(ip + ihl, total - ihl) == 0xffff);
  const uint8_t* inner = ip + ihl + 8;
  FUZZ_CHECK(raw32(inner + 12) == to.src);
  FUZZ_CHECK(raw32(inner + 16) == to.dst);
  FUZZ_CHECK(raw32(ip + 16) == to.src);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0xffff) return 0;
  // The tuple from a hash of the frame, so the parser's seeds stay frames.
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  QuoteTuple to{static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32), static_cast<uint16_t>(h >> 8),
                static_cast<uint16_t>(h >> 40)};
  const std::vector<uint8_t> frame(data, data + size);  // exactly sized for ASan
  for (const bool vxlan : {false, true}) {
    PktMeta md{};
    if (parse_packet(frame.data(), static_cast<uint32_t>(frame.size()), md, vxlan) != DropReason::kNone) continue;
    check_layer(frame.data(), static_cast<uint32_t>(frame.size()), md.outer, to);
    if (md.outer.flags & kFlagVxlan) check_layer(frame.data(), static_cast<uint32_t>(frame.size()), md.inner, to);
  }
  return 0;
}
