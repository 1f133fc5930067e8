// The translation's checksum update (dataplane/rewrite/checksum.h): the
// changes of up to two addresses and two ports summed in a CsumDelta and
// patched in once give the checksum a full recomputation gives, and the
// one the field-by-field patches gave, on many random headers.

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "dataplane/rewrite/checksum.h"

namespace weft::dp {
namespace {

// A 20-byte IPv4 header followed by an 8-byte "transport header" whose
// first four bytes are ports and whose bytes 6-7 are a checksum over the
// ports, its own other bytes and the addresses (as TCP's and UDP's cover
// the pseudo header): every offset below is into this one buffer.
constexpr size_t kIpSum = 10, kSrc = 12, kDst = 16, kSport = 20, kDport = 22, kL4Sum = 26;

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
// RFC 1071 over the words of [from, to) and the extra ranges, the checksum
// at `skip` counted as 0; words as they sit in memory (any byte order
// works alike for a one's complement sum, as long as it is the same).
uint16_t full(const std::vector<uint8_t>& b, size_t from, size_t to, size_t skip,
              std::initializer_list<size_t> extra = {}) {
  uint32_t sum = 0;
  auto add = [&](size_t at) {
    uint16_t w;
    std::memcpy(&w, &b[at], 2);
    sum += w;
  };
  for (size_t i = from; i < to; i += 2)
    if (i != skip) add(i);
  for (size_t e : extra) add(e);
  return static_cast<uint16_t>(~fold(sum));
}
uint16_t ip_sum(const std::vector<uint8_t>& b) { return full(b, 0, 20, kIpSum); }
uint16_t l4_sum(const std::vector<uint8_t>& b) {
  return full(b, 20, 28, kL4Sum, {kSrc, kSrc + 2, kDst, kDst + 2});
}
uint16_t at16(const std::vector<uint8_t>& b, size_t at) { return load<uint16_t>(&b[at]); }

TEST(CsumDelta, OnePatchEqualsFullRecomputationAndFieldByField) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    std::vector<uint8_t> b(28);
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
    store<uint16_t>(&b[kIpSum], ip_sum(b));
    store<uint16_t>(&b[kL4Sum], l4_sum(b));
    std::vector<uint8_t> one = b, each = b;

    // Which fields change: a translation changes one side or both.
    const uint32_t src = rng(), dst = rng();
    const uint16_t sport = static_cast<uint16_t>(rng()), dport = static_cast<uint16_t>(rng());
    const unsigned which = rng() % 16;

    // `one` as rewrite.cc patches it: the addresses' changes once into the
    // IP checksum, and with the ports' into the transport checksum.
    // `each` as it did before, one read-modify-write per field.
    CsumDelta addresses;
    auto change32 = [&](size_t at, uint32_t now) {
      const uint32_t old = load<uint32_t>(&one[at]);
      addresses.replace32(old, now);
      store(&one[at], now);
      csum_replace32(&each[kIpSum], old, now);
      csum_replace32(&each[kL4Sum], old, now);
      store(&each[at], now);
    };
    if (which & 1) change32(kSrc, src);
    if (which & 2) change32(kDst, dst);
    CsumDelta transport = addresses;
    auto change16 = [&](size_t at, uint16_t now) {
      const uint16_t old = load<uint16_t>(&one[at]);
      transport.replace16(old, now);
      store(&one[at], now);
      csum_replace16(&each[kL4Sum], old, now);
      store(&each[at], now);
    };
    if (which & 4) change16(kSport, sport);
    if (which & 8) change16(kDport, dport);
    addresses.apply(&one[kIpSum]);
    transport.apply(&one[kL4Sum]);

    ASSERT_EQ(at16(one, kIpSum), ip_sum(one)) << "case " << i;
    ASSERT_EQ(at16(one, kL4Sum), l4_sum(one)) << "case " << i;
    ASSERT_EQ(at16(one, kIpSum), at16(each, kIpSum)) << "case " << i;
    ASSERT_EQ(at16(one, kL4Sum), at16(each, kL4Sum)) << "case " << i;
  }
}

}  // namespace
}  // namespace weft::dp
