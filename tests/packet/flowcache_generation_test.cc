// A policy change under live connections (flowcache_fixture.h): entries
// recorded under an older snapshot are decided again on their next packet,
// from either direction. A connection the new policy denies is cut, both
// ways, and stays cut (a tombstone) whichever side speaks next, until a
// policy allows it again; one it still allows keeps flowing and goes back
// to being a cache hit; a recorded path that the new snapshot changes (a
// port moved to another node) is recomputed.

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
  // connection is cut: a tombstone, evicted first, that drops either
  // side's packets.
  Outcome o = client(40080, 80, kAck);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "sg_ingress_denied=1");
  EXPECT_EQ(conntrack().stats().cut.get(), 1u);
  EXPECT_EQ(conntrack().size(dp::ConnClass::kClosing), 1u);
  EXPECT_EQ(server(40080, 80, kAck).drops, "ct_cut=1");
  EXPECT_EQ(client(40080, 80, kAck).drops, "ct_cut=1");

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
  EXPECT_EQ(client(40080, 80, kAck).drops, "ct_cut=1");
  EXPECT_TRUE(server(48080, 8080, kAck).delivered_to(kUnderlayPort));
  EXPECT_TRUE(client(48080, 8080, kAck).delivered_to(kRed1Port));
}

// red-3 -> red-2:5432. Group db (red-2) has no egress list, so red-2 may
// open connections to anyone: had the cut removed the entry, the server's
// next segment would be picked up mid-stream as a connection of its own
// (red-2 -> red-3), and the client's segments would pass as its replies.
TEST_F(FlowcacheGenerationTest, ACutConnectionStaysCutWhicheverSideSpeaks) {
  auto client = [&](uint8_t flags) {
    return send(from_node_b(tcp_frame(T.kRed3, T.kRed2, 41000, 5432, flags, 64)), kUnderlayPort);
  };
  auto server = [&](uint8_t flags) {
    return send(tcp_frame(T.kRed2, T.kRed3, 5432, 41000, flags, 64), kRed2Port);
  };
  ASSERT_TRUE(client(kSyn).delivered_to(kRed2Port));
  ASSERT_TRUE(server(kSynAck).delivered_to(kUnderlayPort));
  ASSERT_TRUE(client(kAck).delivered_to(kRed2Port));

  std::string no_db = sg_policy();
  const std::string rule = "      - {protocol: tcp, ports: 5432, from_group: web}\n";
  ASSERT_NE(no_db.find(rule), std::string::npos);
  no_db.erase(no_db.find(rule), rule.size());
  apply(no_db);
  EXPECT_EQ(client(kAck).drops, "sg_ingress_denied=1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(server(kAck).drops, "ct_cut=1");  // a retransmission, a keepalive
    EXPECT_EQ(client(kAck).drops, "ct_cut=1");
  }

  // The rule comes back: the connection is decided again and flows.
  apply(sg_policy());
  EXPECT_TRUE(server(kAck).delivered_to(kUnderlayPort));
  EXPECT_TRUE(client(kAck).delivered_to(kRed2Port));
  EXPECT_EQ(conntrack().size(dp::ConnClass::kAssured), 1u);
}

TEST_F(FlowcacheGenerationTest, AnUnchangedPolicyKeepsEveryConnection) {
  establish(40080, 80);
  apply(sg_policy());  // a new generation, the same rules
  EXPECT_TRUE(client(40080, 80, kAck).delivered_to(kRed1Port));
  EXPECT_TRUE(server(40080, 80, kAck).delivered_to(kUnderlayPort));
  EXPECT_EQ(conntrack().stats().cut.get(), 0u);
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
