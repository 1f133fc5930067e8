// A policy change under live connections (flowcache_fixture.h): entries
// recorded under an older snapshot are decided again on their next packet,
// from either direction. A connection the new policy denies is cut, both
// ways; one it still allows keeps flowing and goes back to being a cache
// hit; a recorded path that the new snapshot changes (a port moved to
// another node) is recomputed.

#include <gtest/gtest.h>
#include <rte_tcp.h>

#include "tests/packet/flowcache_fixture.h"

namespace weft::test {
namespace {

constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG;
constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kAck = RTE_TCP_ACK_FLAG;

const Topo T;

class FlowcacheGenerationTest : public FlowCacheFixture {
 protected:
  // red-3 -> red-1:port, handshake done.
  void establish(uint16_t sport, uint16_t port) {
    ASSERT_TRUE(client(sport, port, kSyn).delivered_to(kRed1Port));
    ASSERT_TRUE(server(sport, port, kSynAck).delivered_to(kUnderlayPort));
    ASSERT_TRUE(client(sport, port, kAck).delivered_to(kRed1Port));
  }
  Outcome client(uint16_t sport, uint16_t port, uint8_t flags) {
    return send(from_node_b(tcp_frame(T.kRed3, T.kRed1, sport, port, flags, 64)), kUnderlayPort);
  }
  Outcome server(uint16_t sport, uint16_t port, uint8_t flags) {
    return send(tcp_frame(T.kRed1, T.kRed3, port, sport, flags, 64), kRed1Port);
  }
};

TEST_F(FlowcacheGenerationTest, RemovingARuleCutsOnlyWhatItAllowed) {
  establish(40080, 80);
  establish(48080, 8080);
  ASSERT_EQ(conntrack().size(), 2u);

  // Group web no longer takes tcp 80.
  apply(sg_policy("8000-8080"));

  // The :80 connection's next packet from the client is denied, and the
  // connection is gone: the server's packets are no replies any more, and
  // red-1 may not open connections to red-3's port 40080.
  Outcome o = client(40080, 80, kAck);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "sg_ingress_denied=1");
  EXPECT_EQ(conntrack().size(), 1u);
  EXPECT_EQ(conntrack().stats().removed.get(), 1u);
  EXPECT_EQ(server(40080, 80, kAck).drops, "sg_egress_denied=1");

  // The :8080 connection is decided again on its next packet, still
  // allowed, and flows on both ways, a cache hit again after that.
  const uint64_t hits = conntrack().stats().hits.get();
  EXPECT_TRUE(client(48080, 8080, kAck).delivered_to(kRed1Port));
  EXPECT_TRUE(server(48080, 8080, kAck).delivered_to(kUnderlayPort));
  EXPECT_EQ(conntrack().stats().hits.get(), hits);  // both directions walked once
  EXPECT_TRUE(client(48080, 8080, kAck).delivered_to(kRed1Port));
  EXPECT_TRUE(server(48080, 8080, kAck).delivered_to(kUnderlayPort));
  EXPECT_EQ(conntrack().stats().hits.get(), hits + 2);
}

TEST_F(FlowcacheGenerationTest, AReplyMayBeTheFirstToMeetTheNewPolicy) {
  establish(40080, 80);
  establish(48080, 8080);
  apply(sg_policy("8000-8080"));
  // The server speaks first: the connection is judged as it was opened
  // (red-3 -> red-1:80 into red-1), not as red-1 -> red-3.
  EXPECT_EQ(server(40080, 80, kAck).drops, "sg_ingress_denied=1");
  EXPECT_EQ(client(40080, 80, kAck).drops, "sg_ingress_denied=1");  // a new, denied connection
  EXPECT_TRUE(server(48080, 8080, kAck).delivered_to(kUnderlayPort));
  EXPECT_TRUE(client(48080, 8080, kAck).delivered_to(kRed1Port));
}

TEST_F(FlowcacheGenerationTest, AnUnchangedPolicyKeepsEveryConnection) {
  establish(40080, 80);
  apply(sg_policy());  // a new generation, the same rules
  EXPECT_TRUE(client(40080, 80, kAck).delivered_to(kRed1Port));
  EXPECT_TRUE(server(40080, 80, kAck).delivered_to(kUnderlayPort));
  EXPECT_EQ(conntrack().stats().removed.get(), 0u);
}

TEST_F(FlowcacheGenerationTest, RecordedPathsFollowTheSnapshot) {
  // red-1 -> red-3 udp 53, recorded: VXLAN to node-b.
  const Bytes dns = udp_frame(T.kRed1, T.kRed3, 40011, 53);
  auto outer_dst = [](const Captured& c) {
    return uint32_t{c.bytes[30]} << 24 | uint32_t{c.bytes[31]} << 16 | uint32_t{c.bytes[32]} << 8 |
           c.bytes[33];
  };
  Outcome o = send(dns, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  EXPECT_EQ(outer_dst(o.sent[0]), Topo::kVtepB);
  o = send(dns, kRed1Port);  // a hit
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  EXPECT_EQ(outer_dst(o.sent[0]), Topo::kVtepB);

  // red-3 moves to node-d: the next packet walks again and goes there.
  apply(sg_policy("80,8000-8080", "node-d"));
  o = send(dns, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  EXPECT_EQ(outer_dst(o.sent[0]), kVtepD);
  EXPECT_EQ(inner_of(o.sent[0]), dns);
  o = send(dns, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  EXPECT_EQ(outer_dst(o.sent[0]), kVtepD);
}

}  // namespace
}  // namespace weft::test
