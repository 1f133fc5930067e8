// The scalar syntaxes of the policy language (control/model/values.h,
// common/units.h) and the MAC derivation scheme (control/model/mac.h).

#include <gtest/gtest.h>

#include "common/units.h"
#include "control/model/mac.h"
#include "control/model/values.h"

namespace weft::policy {
namespace {

template <class T>
std::optional<T> parse(const ValueKind<T>& kind, std::string_view text,
                       std::string* why = nullptr) {
  T out{};
  std::string reason;
  bool ok = kind.parse(text, out, reason);
  if (why) *why = reason;
  if (!ok) return std::nullopt;
  return out;
}

TEST(Units, RatesAreDecimalBitsPerSecond) {
  EXPECT_EQ(parse_rate_bps("500kbit"), 500'000u);
  EXPECT_EQ(parse_rate_bps("100mbit"), 100'000'000u);
  EXPECT_EQ(parse_rate_bps("10gbit"), 10'000'000'000u);
  EXPECT_EQ(parse_rate_bps("1bit"), 1u);
  for (auto bad : {"100Mbit", "100mbps", "1.5gbit", "100", "mbit", " 1mbit", "1mbit ", "-1mbit",
                   "99999999999999999999tbit", "20000000tbit"})
    EXPECT_FALSE(parse_rate_bps(bad)) << bad;
}

TEST(Units, SizesAreBinaryBytesAsInTc) {
  EXPECT_EQ(parse_size_bytes("1500b"), 1500u);
  EXPECT_EQ(parse_size_bytes("64kb"), 65536u);
  EXPECT_EQ(parse_size_bytes("1mb"), 1048576u);
  EXPECT_EQ(parse_size_bytes("2gb"), 2147483648u);
  for (auto bad : {"64KB", "64k", "64", "kb", "1.5mb"}) EXPECT_FALSE(parse_size_bytes(bad)) << bad;
}

TEST(Units, DurationsAreMilliseconds) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500u);
  EXPECT_EQ(parse_duration_ms("2s"), 2000u);
  EXPECT_EQ(parse_duration_ms("3m"), 180'000u);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000u);
  for (auto bad : {"2", "2 s", "1.5s", "2sec", "ms"}) EXPECT_FALSE(parse_duration_ms(bad)) << bad;
}

TEST(Units, FormatIsTheCanonicalSpelling) {
  EXPECT_EQ(format_rate_bps(100'000'000), "100mbit");
  EXPECT_EQ(format_rate_bps(1'500'000), "1500kbit");
  EXPECT_EQ(format_size_bytes(65536), "64kb");
  EXPECT_EQ(format_size_bytes(1500), "1500b");
  EXPECT_EQ(format_duration_ms(500), "500ms");
  EXPECT_EQ(format_duration_ms(120'000), "2m");
  EXPECT_EQ(format_rate_bps(*parse_rate_bps("10gbit")), "10gbit");
  EXPECT_EQ(format_size_bytes(*parse_size_bytes("64kb")), "64kb");
  EXPECT_EQ(format_duration_ms(*parse_duration_ms("750ms")), "750ms");
}

// Port lists are read in place: an optional<PortRanges> (a Boost
// small_vector) trips g++ 12's -Wstringop-overread false positive.
std::string port_list(std::string_view text, std::string* why = nullptr) {
  PortRanges ranges;
  std::string reason;
  bool ok = kPortList.parse(text, ranges, reason);
  if (why) *why = reason;
  return ok ? format_port_list(ranges) : "invalid";
}

TEST(Values, PortListsAreSortedAndMerged) {
  EXPECT_EQ(port_list("8000-8080,443, 80,81,82-90,8050-9000"), "80-90,443,8000-9000");
  EXPECT_EQ(port_list("53"), "53");
  std::string why;
  EXPECT_EQ(port_list("9000-8000", &why), "invalid");
  EXPECT_EQ(why, "range 9000-8000 runs backwards");
  EXPECT_EQ(port_list("0", &why), "invalid");
  EXPECT_EQ(why, "port 0 is out of range 1..65535");
  for (auto bad : {"", ",", "80,", "80-", "-80", "http", "1-2-3"})
    EXPECT_EQ(port_list(bad), "invalid") << bad;
}

TEST(Values, Names) {
  const std::vector<std::string> good = {"a", "web-1", "0day", "a-", std::string(63, 'x')};
  const std::vector<std::string> bad = {"", "-a", "Web", "a_b", "a.b", "a b", std::string(64, 'x')};
  for (const auto& name : good) EXPECT_TRUE(parse(kName, name)) << name;
  for (const auto& name : bad) EXPECT_FALSE(parse(kName, name)) << name;
}

TEST(Values, PrefixesRefuseHostBitsWithAHint) {
  std::string why;
  EXPECT_FALSE(parse(kCidr, "10.1.1.7/24", &why));
  EXPECT_EQ(why, "host bits are set; did you mean 10.1.1.0/24?");
  EXPECT_FALSE(parse(kCidr, "10.1.1.7"));
  auto bare = parse(kAddressOrCidr, "10.1.1.7");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->len, 32);
  EXPECT_TRUE(parse(kCidr, "0.0.0.0/0"));
}

TEST(Values, KeywordsSuggestTheClosest) {
  std::string why;
  EXPECT_FALSE(parse(kRuleProtocol, "udpp", &why));
  EXPECT_EQ(why, "did you mean 'udp'?");
  EXPECT_EQ(parse(kRuleProtocol, "icmp"), Protocol::kIcmp);
  EXPECT_FALSE(parse(kListenerProtocol, "icmp"));
  EXPECT_EQ(parse(kPriority, "low"), Priority::kLow);
}

TEST(Values, MacsMustBeUnicastAndNonZero) {
  EXPECT_TRUE(parse(kUnicastMac, "02:00:0a:01:01:0a"));
  EXPECT_FALSE(parse(kUnicastMac, "01:00:5e:00:00:01"));
  EXPECT_FALSE(parse(kUnicastMac, "00:00:00:00:00:00"));
  EXPECT_FALSE(parse(kUnicastMac, "ff:ff:ff:ff:ff:ff"));
}

TEST(Mac, PortMacIsNetworkByteAndAddress) {
  Mac m = derived_port_mac("blue", 0x0a01010a);
  EXPECT_EQ(m[0], 0x02);  // locally administered, unicast
  EXPECT_EQ(format_mac(m).substr(5), ":0a:01:01:0a");
  // The network byte is stable (it is part of every VM's MAC) ...
  EXPECT_EQ(format_mac(m), "02:41:0a:01:01:0a");
  EXPECT_EQ(format_mac(derived_port_mac("red", 0x0a00010a)), "02:e8:0a:00:01:0a");
  // ... and differs between networks that share an address plan.
  EXPECT_NE(derived_port_mac("blue", 0x0a01010a), derived_port_mac("red", 0x0a01010a));
}

TEST(Mac, RouterMacCarriesTheVni) {
  EXPECT_EQ(format_mac(router_mac(5001)), "0a:00:00:00:13:89");
  EXPECT_EQ(format_mac(router_mac(16777215)), "0a:00:00:ff:ff:ff");
  EXPECT_FALSE(mac_is_multicast(router_mac(1)));
}

TEST(Mac, U64FormRoundTrips) {
  Mac m = *parse_mac("02:00:0a:01:01:0a");
  EXPECT_EQ(mac_to_u64(m), 0x02000a01010aull);
  EXPECT_EQ(mac_from_u64(0x02000a01010aull), m);
}

}  // namespace
}  // namespace weft::policy
