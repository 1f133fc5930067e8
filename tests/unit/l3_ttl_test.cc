// The routed path's TTL decrement (dataplane/rewrite/ttl.h): the incremental
// checksum (RFC 1624) equals a full recomputation for many random headers,
// with and without options, and for a header of every possible checksum,
// 0x0000 before or after among them; an expiring TTL is left alone.

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <random>
#include <vector>

#include "dataplane/rewrite/ttl.h"

namespace weft::dp {
namespace {

// RFC 1071, written out here rather than taken from DPDK: the folded sum of
// the header's 16-bit words, big-endian, the checksum field counted as 0.
uint16_t folded_sum(const std::vector<uint8_t>& h) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    if (i == 10) continue;  // the checksum field
    sum += uint32_t{h[i]} << 8 | h[i + 1];
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
uint16_t full_checksum(const std::vector<uint8_t>& h) {
  return static_cast<uint16_t>(~folded_sum(h));
}
void store_checksum(std::vector<uint8_t>& h) {
  const uint16_t c = full_checksum(h);
  h[10] = static_cast<uint8_t>(c >> 8);
  h[11] = static_cast<uint8_t>(c);
}
uint16_t stored_checksum(const std::vector<uint8_t>& h) {
  return static_cast<uint16_t>(h[10] << 8 | h[11]);
}

std::vector<uint8_t> random_header(std::mt19937& rng, uint8_t ttl) {
  const uint32_t ihl = 5 + rng() % 11;  // options: up to 40 bytes
  std::vector<uint8_t> h(ihl * 4);
  for (uint8_t& b : h) b = static_cast<uint8_t>(rng());
  h[0] = static_cast<uint8_t>(0x40 | ihl);
  h[8] = ttl;
  store_checksum(h);
  return h;
}

rte_ipv4_hdr* as_ip(std::vector<uint8_t>& h) {
  return reinterpret_cast<rte_ipv4_hdr*>(h.data());
}

// Decrements with ttl.h and checks the result against a recomputation.
void expect_decrement_matches(std::vector<uint8_t> h) {
  const uint8_t ttl = h[8];
  ASSERT_TRUE(ipv4_decrement_ttl(as_ip(h)));
  EXPECT_EQ(h[8], ttl - 1);
  EXPECT_EQ(stored_checksum(h), full_checksum(h)) << "ttl " << int{ttl};
  EXPECT_NE(stored_checksum(h), 0xffff) << "never -0";
}

TEST(Ttl, IncrementalChecksumMatchesFullRecomputationOnRandomHeaders) {
  std::mt19937 rng(20240613);
  for (int i = 0; i < 200000; ++i) {
    const uint8_t ttl = static_cast<uint8_t>(2 + rng() % 254);
    expect_decrement_matches(random_header(rng, ttl));
    if (HasFailure()) return;
  }
}

TEST(Ttl, EveryTtlFrom255DownToTwo) {
  std::mt19937 rng(7);
  std::vector<uint8_t> h = random_header(rng, 255);
  while (h[8] > 1) {
    ASSERT_TRUE(ipv4_decrement_ttl(as_ip(h)));
    ASSERT_EQ(stored_checksum(h), full_checksum(h)) << "ttl " << int{h[8]};
  }
  EXPECT_EQ(h[8], 1);
}

// A header whose words (checksum aside) fold to `sum`: the identification
// field is chosen to get there.
std::vector<uint8_t> header_with_sum(uint16_t sum, uint8_t ttl, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> h = random_header(rng, ttl);
  h[4] = h[5] = 0;
  const uint16_t rest = folded_sum(h);
  // One's complement subtraction: id = sum - rest.
  uint32_t id = uint32_t{sum} + static_cast<uint16_t>(~rest);
  id = (id & 0xffff) + (id >> 16);
  h[4] = static_cast<uint8_t>(id >> 8);
  h[5] = static_cast<uint8_t>(id);
  store_checksum(h);
  return h;
}

// Every folded sum 0x0001..0xffff: so every checksum from 0xfffe down to
// 0x0000 before the decrement, and every one after.
TEST(Ttl, EveryChecksumValueIncludingTheOnesComplementCorners) {
  for (uint32_t sum = 1; sum <= 0xffff; ++sum) {
    std::vector<uint8_t> h = header_with_sum(static_cast<uint16_t>(sum), 2 + sum % 254, sum);
    ASSERT_EQ(folded_sum(h), sum);
    expect_decrement_matches(h);
    if (HasFailure()) return;
  }
}

TEST(Ttl, CornerCasesByName) {
  // Checksum 0x0000 before (the words fold to 0xffff): after, 0x0100.
  std::vector<uint8_t> zero_before = header_with_sum(0xffff, 64, 1);
  ASSERT_EQ(stored_checksum(zero_before), 0x0000);
  ASSERT_TRUE(ipv4_decrement_ttl(as_ip(zero_before)));
  EXPECT_EQ(stored_checksum(zero_before), 0x0100);
  EXPECT_EQ(stored_checksum(zero_before), full_checksum(zero_before));

  // Checksum 0x0000 after: the words fold to 0x0100 before, 0xffff after.
  // RFC 1141's HC + m - m' gives 0xffff (-0) here.
  std::vector<uint8_t> zero_after = header_with_sum(0x0100, 64, 2);
  ASSERT_EQ(stored_checksum(zero_after), 0xfeff);
  ASSERT_TRUE(ipv4_decrement_ttl(as_ip(zero_after)));
  EXPECT_EQ(stored_checksum(zero_after), 0x0000);
  EXPECT_EQ(full_checksum(zero_after), 0x0000);

  // The borrow from the TTL's byte into the protocol's never happens: TTL
  // is above 1, so TTL - 1 stays in its byte.
  std::vector<uint8_t> two = header_with_sum(0x1234, 2, 3);
  const uint8_t proto = two[9];
  ASSERT_TRUE(ipv4_decrement_ttl(as_ip(two)));
  EXPECT_EQ(two[8], 1);
  EXPECT_EQ(two[9], proto);
  EXPECT_EQ(stored_checksum(two), full_checksum(two));
}

TEST(Ttl, ExpiringTtlIsLeftAlone) {
  std::mt19937 rng(3);
  for (uint8_t ttl : {0, 1}) {
    std::vector<uint8_t> h = random_header(rng, ttl);
    const std::vector<uint8_t> before = h;
    EXPECT_TRUE(ipv4_ttl_expires(as_ip(h)));
    EXPECT_FALSE(ipv4_decrement_ttl(as_ip(h)));
    EXPECT_EQ(h, before);
  }
  std::vector<uint8_t> h = random_header(rng, 2);
  EXPECT_FALSE(ipv4_ttl_expires(as_ip(h)));
}

TEST(Ttl, ReplaceAnyWordAsNatWould) {
  // inet_csum_replace16 for a word other than the TTL's: the source
  // address's high half.
  std::mt19937 rng(11);
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> h = random_header(rng, 64);
    rte_be16_t old_word, new_word = static_cast<rte_be16_t>(rng());
    std::memcpy(&old_word, &h[12], 2);
    std::memcpy(&h[12], &new_word, 2);
    rte_be16_t csum;
    std::memcpy(&csum, &h[10], 2);
    csum = inet_csum_replace16(csum, old_word, new_word);
    std::memcpy(&h[10], &csum, 2);
    ASSERT_EQ(stored_checksum(h), full_checksum(h));
  }
}

}  // namespace
}  // namespace weft::dp
