// A full connection table under a SYN flood, through weftd's policy-mode
// graph (flowcache_fixture.h) with a table of 256 connections: the flood
// churns its own embryonic entries, oldest first, while every established
// connection keeps its entry and keeps flowing; a table full of
// established connections refuses new ones rather than evict them.

#include <gtest/gtest.h>
#include <rte_tcp.h>

#include <vector>

#include "tests/packet/flowcache_fixture.h"

namespace weft::test {
namespace {

constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG;
constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kAck = RTE_TCP_ACK_FLAG;
constexpr uint32_t kTable = 256;
constexpr uint16_t kEstablished = 100;

const Topo T;

class FlowcacheEvictionTest : public FlowCacheFixture {
 protected:
  void SetUp() override {
    FlowCacheFixture::SetUp();
    build_graph(kTable);
  }
  // red-3 -> red-1:80 from `sport`.
  static Bytes client(uint16_t sport, uint8_t flags) {
    return from_node_b(tcp_frame(T.kRed3, T.kRed1, sport, 80, flags, 32));
  }
  static Bytes server(uint16_t sport, uint8_t flags) {
    return tcp_frame(T.kRed1, T.kRed3, 80, sport, flags, 32);
  }

  void establish_all() {
    for (uint16_t i = 0; i < kEstablished; ++i) {
      ASSERT_TRUE(send(client(10000 + i, kSyn), kUnderlayPort).delivered_to(kRed1Port));
      ASSERT_TRUE(send(server(10000 + i, kSynAck), kRed1Port).delivered_to(kUnderlayPort));
      ASSERT_TRUE(send(client(10000 + i, kAck), kUnderlayPort).delivered_to(kRed1Port));
    }
    ASSERT_EQ(conntrack().size(dp::ConnClass::kAssured), kEstablished);
  }
};

TEST_F(FlowcacheEvictionTest, SynFloodLeavesEstablishedConnectionsAlone) {
  establish_all();
  // 20,000 SYNs from ever new source ports, in bursts of 32, over 20 s of
  // fake time (nothing expires): 80 times the table.
  std::vector<Bytes> burst;
  uint32_t flooded = 0;
  for (uint32_t n = 0; n < 20000; n += 32) {
    burst.clear();
    for (uint32_t k = 0; k < 32; ++k)
      burst.push_back(client(static_cast<uint16_t>(20000 + n + k), kSyn));
    at(now() + 32);
    clear();
    run(burst, {.in_port = kUnderlayPort});
    flooded += static_cast<uint32_t>(sent().size());
    ASSERT_EQ(total_drops(), 0u) << drop_summary();  // each SYN got an entry
  }
  EXPECT_EQ(flooded, 20000u / 32 * 32);
  const auto& s = conntrack().stats();
  EXPECT_EQ(conntrack().size(), kTable);
  EXPECT_EQ(conntrack().size(dp::ConnClass::kAssured), kEstablished);
  EXPECT_EQ(s.evicted[static_cast<size_t>(dp::ConnClass::kAssured)].get(), 0u);
  EXPECT_GT(s.evicted[static_cast<size_t>(dp::ConnClass::kEmbryonic)].get(), 19000u);
  EXPECT_EQ(s.full.get(), 0u);

  // Every established connection still flows, both ways, from the cache.
  const uint64_t hits = s.hits.get();
  for (uint16_t i = 0; i < kEstablished; ++i) {
    ASSERT_TRUE(send(client(10000 + i, kAck), kUnderlayPort).delivered_to(kRed1Port)) << i;
    ASSERT_TRUE(send(server(10000 + i, kAck), kRed1Port).delivered_to(kUnderlayPort)) << i;
  }
  EXPECT_EQ(s.hits.get(), hits + 2 * kEstablished);
  // The oldest SYNs of the flood went first: its last ones are still there.
  const Outcome late =
      send(server(static_cast<uint16_t>(20000 + 20000 / 32 * 32 - 1), kSynAck), kRed1Port);
  EXPECT_TRUE(late.delivered_to(kUnderlayPort)) << late.drops;
  EXPECT_EQ(send(server(20000, kSynAck), kRed1Port).drops,
            "ct_invalid=1");  // evicted: no connection
}

TEST_F(FlowcacheEvictionTest, AFullTableOfEstablishedConnectionsRefusesNewOnes) {
  build_graph(kEstablished);
  establish_all();
  const Outcome o = send(client(30000, kSyn), kUnderlayPort);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "ct_table_full=1");
  EXPECT_EQ(conntrack().size(dp::ConnClass::kAssured), kEstablished);
  // Established ones flow on.
  EXPECT_TRUE(send(client(10000, kAck), kUnderlayPort).delivered_to(kRed1Port));
}

}  // namespace
}  // namespace weft::test
