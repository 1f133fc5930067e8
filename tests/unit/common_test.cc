#include <gtest/gtest.h>

#include <string>

#include "common/net.h"
#include "common/yaml_doc.h"

namespace weft {
namespace {

TEST(Net, ParsesIpv4AndRejectsJunk) {
  EXPECT_EQ(parse_ipv4("10.1.2.3"), 0x0a010203u);
  EXPECT_FALSE(parse_ipv4("10.1.2"));
  EXPECT_FALSE(parse_ipv4("10.1.2.256"));
  EXPECT_FALSE(parse_ipv4("10.1.2.3x"));
  EXPECT_FALSE(parse_ipv4("10..2.3"));
  EXPECT_FALSE(parse_ipv4(""));
}

TEST(Net, PrefixHostBitsAndOverlap) {
  auto p = parse_ipv4_prefix("10.1.1.0/24");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_host_bits());
  EXPECT_TRUE(parse_ipv4_prefix("10.1.1.1/24")->has_host_bits());
  EXPECT_TRUE(p->overlaps(*parse_ipv4_prefix("10.1.0.0/16")));
  EXPECT_FALSE(p->overlaps(*parse_ipv4_prefix("10.1.2.0/24")));
  EXPECT_FALSE(parse_ipv4_prefix("10.1.1.0/33"));
  EXPECT_FALSE(parse_ipv4_prefix("10.1.1.0"));
  EXPECT_EQ(parse_ipv4_prefix("10.1.1.7", true)->len, 32);
}

TEST(Net, Mac) {
  auto m = parse_mac("02:00:0A:01:01:0a");
  ASSERT_TRUE(m);
  EXPECT_EQ(format_mac(*m), "02:00:0a:01:01:0a");
  EXPECT_FALSE(parse_mac("02:00:0a:01:01"));
  EXPECT_FALSE(parse_mac("02:00:0a:01:01:0g"));
  EXPECT_TRUE(mac_is_multicast(*parse_mac("01:00:5e:00:00:01")));
}

TEST(YamlDoc, SyntaxErrorHasPosition) {
  Diagnostics d;
  EXPECT_FALSE(load_yaml_text("a: [1, 2\nb: 3\n", "p.yaml", d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.items()[0].pos.file, "p.yaml");
  EXPECT_GT(d.items()[0].pos.line, 0);
}

TEST(YamlDoc, RefusesAliasBomb) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + prev;
    text += "]\n";
    prev = c;
  }
  Diagnostics d;
  EXPECT_FALSE(load_yaml_text(text, "bomb.yaml", d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d.items()[0].message.find("alias"), std::string::npos);
}

TEST(YamlDoc, RefusesDeepNesting) {
  std::string text(10000, '[');
  Diagnostics d;
  EXPECT_FALSE(load_yaml_text(text, "deep.yaml", d));
  EXPECT_EQ(d.size(), 1u);
}

TEST(YamlDoc, RefusesHugeText) {
  Diagnostics d;
  YamlLimits limits;
  limits.max_bytes = 100;
  EXPECT_FALSE(load_yaml_text(std::string(101, ' '), "big.yaml", d, limits));
  EXPECT_EQ(d.size(), 1u);
}

TEST(YamlDoc, UnknownKeyGetsDidYouMean) {
  Diagnostics d;
  auto n = load_yaml_text("name: x\nvnii: 5\n", "p.yaml", d);
  ASSERT_TRUE(n);
  check_keys(*n, "p.yaml", "network", {"name", "vni", "mtu"}, {"name", "vni"}, d);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.items()[0].format(),
            "p.yaml:2:1: error: unknown key 'vnii' in network; did you mean 'vni'?");
  EXPECT_EQ(d.items()[1].format(), "p.yaml:1:1: error: missing key 'vni' in network");
}

}  // namespace
}  // namespace weft
