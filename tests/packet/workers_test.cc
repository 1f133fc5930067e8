// Two workers in policy mode (dataplane/handoff/): each with its own graph
// and connection table, built by weftd's own build_worker_graph, joined by
// the handoff rings. A packet enters the worker of the rx queue it "came
// in on"; what that worker hands over is run by its owner, as the worker
// loop does (worker.cc). Whatever worker each packet of a connection
// arrives on, the security groups, the flow cache, a cut by a policy
// change and a SYN flood behave as with one worker: the connection lives
// in one table, its owner's, and is judged and cut there.

#include <gtest/gtest.h>
#include <rte_tcp.h>

#include <array>
#include <cstring>
#include <memory>

#include "dataplane/handoff/handoff_mesh.h"
#include "dataplane/handoff/owner.h"
#include "tests/packet/worker_pair.h"

namespace weft::test {
namespace {

constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG;
constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kAck = RTE_TCP_ACK_FLAG;

const Topo T;

class WorkersTest : public FlowCacheFixture {
 protected:
  static constexpr unsigned kWorkers = WorkerPair::kWorkers;

  void SetUp() override {
    FlowCacheFixture::SetUp();  // the policy, its snapshots and the clock
    build_workers(4096, dp::HandoffMesh::kDefaultRingSize);
  }
  void TearDown() override {
    workers_.reset();
    FlowCacheFixture::TearDown();
  }

  void build_workers(uint32_t max_connections, unsigned ring_size) { workers_.build(max_connections, ring_size); }

  Handled arrive(unsigned w, std::span<const Bytes> frames, uint16_t in_port) {
    return workers_.arrive(w, frames, in_port, snapshot(), now());
  }
  Handled arrive(unsigned w, const Bytes& frame, uint16_t in_port) { return arrive(w, std::span(&frame, 1), in_port); }

  // A TCP segment between red-3 (behind node-b) and red-1, arriving on
  // worker `w`: the client's in VXLAN on the underlay, the server's on
  // red-1's vNIC.
  Handled client(unsigned w, uint16_t sport, uint16_t port, uint8_t flags) {
    return arrive(w, from_node_b(tcp_frame(T.kRed3, T.kRed1, sport, port, flags, 64)), kUnderlayPort);
  }
  Handled server(unsigned w, uint16_t sport, uint16_t port, uint8_t flags) {
    return arrive(w, tcp_frame(T.kRed1, T.kRed3, port, sport, flags, 64), kRed1Port);
  }

  // The owner of red-3:sport <-> red-1:port.
  unsigned owner(uint16_t sport, uint16_t port) const {
    uint8_t side;
    const dp::ConnKey k = dp::make_conn_key(kRedVni, IPPROTO_TCP, rte_cpu_to_be_32(T.kRed3.ip),
                                            rte_cpu_to_be_16(sport), rte_cpu_to_be_32(T.kRed1.ip),
                                            rte_cpu_to_be_16(port), side);
    return dp::key_owner(k, kWorkers);
  }

  dp::ConnTable& table(unsigned w) { return workers_.table(w); }
  const dp::WorkerStats& worker_stats(unsigned w) const { return workers_.stats(w); }

  WorkerPair workers_;
};

// Connections whose packets arrive on either worker, each direction on
// the worker the test says: every one opens, flows both ways and is a
// cache hit after, and lives in its owner's table alone.
TEST_F(WorkersTest, EachConnectionLivesInItsOwnersTableWhateverQueueItsPacketsArriveOn) {
  std::array<unsigned, kWorkers> owned{};
  for (uint16_t i = 0; i < 32; ++i) {
    const uint16_t sport = static_cast<uint16_t>(40000 + i);
    const unsigned o = owner(sport, 80);
    const unsigned other = o ^ 1;
    ++owned[o];
    const size_t before = table(o).size();
    const size_t other_before = table(other).size();
    // The SYN on one worker, the SYN-ACK on the other (i picks which).
    const unsigned a = i & 1, b = a ^ 1;
    Handled h = client(a, sport, 80, kSyn);
    ASSERT_TRUE(h.outcome.delivered_to(kRed1Port)) << h.outcome.drops;
    EXPECT_EQ(h.handed, a == o ? 0u : 1u);
    h = server(b, sport, 80, kSynAck);
    ASSERT_TRUE(h.outcome.delivered_to(kUnderlayPort)) << h.outcome.drops;  // not ct_invalid
    EXPECT_EQ(h.handed, b == o ? 0u : 1u);
    ASSERT_TRUE(client(b, sport, 80, kAck).outcome.delivered_to(kRed1Port));
    const uint64_t hits = table(o).stats().hits.get();
    EXPECT_TRUE(server(a, sport, 80, kAck).outcome.delivered_to(kUnderlayPort));
    EXPECT_TRUE(client(a, sport, 80, kAck).outcome.delivered_to(kRed1Port));
    EXPECT_EQ(table(o).stats().hits.get(), hits + 2);
    EXPECT_EQ(table(o).size(), before + 1);
    EXPECT_EQ(table(other).size(), other_before);
  }
  EXPECT_GT(owned[0], 0u);
  EXPECT_GT(owned[1], 0u);
}

// The security groups decide as with one worker, on either worker.
TEST_F(WorkersTest, TheSecurityGroupsAllowAndDenyOnEitherWorker) {
  for (unsigned w = 0; w < kWorkers; ++w) {
    const uint16_t sport = static_cast<uint16_t>(41000 + w);
    EXPECT_TRUE(client(w, sport, 8080, kSyn).outcome.delivered_to(kRed1Port)) << "web takes 8000-8080";
    EXPECT_EQ(client(w, sport, 22, kSyn).outcome.drops, "sg_ingress_denied=1");
    // red-1 (web) may open tcp 5432 to red-2 (db), not the other way.
    EXPECT_TRUE(arrive(w, tcp_frame(T.kRed1, T.kRed2, sport, 5432, kSyn), kRed1Port).outcome.delivered_to(kRed2Port));
    EXPECT_EQ(arrive(w, tcp_frame(T.kRed2, T.kRed1, sport, 5432, kSyn), kRed2Port).outcome.drops,
              "sg_ingress_denied=1");
    // A SYN-ACK of no connection is invalid wherever it arrives.
    EXPECT_EQ(server(w, static_cast<uint16_t>(42000 + w), 80, kSynAck).outcome.drops, "ct_invalid=1");
  }
}

// A policy change that denies a connection cuts it on its owner, whichever
// worker its next packet arrives on; both sides are dropped after.
TEST_F(WorkersTest, APolicyChangeCutsTheConnectionOnItsOwner) {
  uint16_t sport = 40080;
  while (owner(sport, 80) != 0) ++sport;  // owned by worker 0
  ASSERT_TRUE(client(1, sport, 80, kSyn).outcome.delivered_to(kRed1Port));
  ASSERT_TRUE(server(1, sport, 80, kSynAck).outcome.delivered_to(kUnderlayPort));
  ASSERT_TRUE(client(0, sport, 80, kAck).outcome.delivered_to(kRed1Port));

  apply(sg_policy("8000-8080"));
  const Handled h = client(1, sport, 80, kAck);  // arrives on the other worker
  EXPECT_TRUE(h.outcome.sent.empty());
  EXPECT_EQ(h.outcome.drops, "sg_ingress_denied=1");
  EXPECT_EQ(worker_stats(0).drops_of(dp::DropReason::sg_ingress_denied), 1u);  // judged by the owner
  EXPECT_EQ(table(0).stats().cut.get(), 1u);
  EXPECT_EQ(table(1).stats().cut.get(), 0u);
  EXPECT_EQ(table(1).size(), 0u);
  EXPECT_EQ(server(1, sport, 80, kAck).outcome.drops, "ct_cut=1");
  EXPECT_EQ(client(0, sport, 80, kAck).outcome.drops, "ct_cut=1");
}

// A SYN flood arriving on both workers fills both tables; an established
// connection of another port keeps flowing both ways and a new one from
// another port still opens, as with one worker (flowcache_eviction_test).
TEST_F(WorkersTest, ASynFloodLeavesOtherPortsConnectionsAlone) {
  build_workers(1024, dp::HandoffMesh::kDefaultRingSize);
  ASSERT_TRUE(arrive(0, tcp_frame(T.kRed1, T.kRed2, 45000, 5432, kSyn), kRed1Port).outcome.delivered_to(kRed2Port));
  ASSERT_TRUE(arrive(1, tcp_frame(T.kRed2, T.kRed1, 5432, 45000, kSynAck), kRed2Port).outcome.delivered_to(kRed1Port));
  ASSERT_TRUE(arrive(1, tcp_frame(T.kRed1, T.kRed2, 45000, 5432, kAck), kRed1Port).outcome.delivered_to(kRed2Port));

  // 4096 SYNs from node-b's red-3 to red-1:80, in bursts, on both workers.
  uint64_t delivered = 0, full = 0;
  for (uint32_t burst = 0; burst < 128; ++burst) {
    std::vector<Bytes> syns;
    for (uint32_t i = 0; i < 32; ++i)
      syns.push_back(from_node_b(tcp_frame(T.kRed3, T.kRed1, static_cast<uint16_t>(1024 + burst * 32 + i), 80, kSyn)));
    const Handled h = arrive(burst & 1, syns, kUnderlayPort);
    delivered += h.outcome.sent.size();
    full += worker_stats(0).drops_of(dp::DropReason::ct_table_full) + worker_stats(1).drops_of(dp::DropReason::ct_table_full);
    EXPECT_EQ(worker_stats(0).drops_of(dp::DropReason::handoff_ring_full) +
                  worker_stats(1).drops_of(dp::DropReason::handoff_ring_full), 0u);
  }
  EXPECT_EQ(delivered + full, 4096u);
  EXPECT_EQ(table(0).size() + table(1).size() <= 2048, true);
  EXPECT_GT(table(0).size(), 500u);
  EXPECT_GT(table(1).size(), 500u);

  EXPECT_TRUE(arrive(0, tcp_frame(T.kRed2, T.kRed1, 5432, 45000, kAck), kRed2Port).outcome.delivered_to(kRed1Port));
  EXPECT_TRUE(arrive(1, tcp_frame(T.kRed1, T.kRed2, 45000, 5432, kAck), kRed1Port).outcome.delivered_to(kRed2Port));
  EXPECT_TRUE(arrive(1, tcp_frame(T.kRed1, T.kRed2, 45001, 5432, kSyn), kRed1Port).outcome.delivered_to(kRed2Port));
}

// A tunnel packet handed over across a policy change is dropped by its
// owner, counted; a vNIC's frame in the same place goes on.
TEST_F(WorkersTest, ATunnelPacketHandedOverAcrossAPolicyChangeIsDroppedAsStale) {
  uint16_t sport = 43000;
  while (owner(sport, 80) != 1) ++sport;
  const Bytes syn = from_node_b(tcp_frame(T.kRed3, T.kRed1, sport, 80, kSyn));
  // By hand what arrive() does, with the new snapshot in force before
  // the owner runs what it was handed.
  rte_mbuf* m = to_mbuf(packet_pool(), syn);
  ASSERT_NE(m, nullptr);
  dp::meta(m)->in_port = kUnderlayPort;
  dp::meta(m)->trace = 0;
  dp::WorkerStats s0, s1;
  dp::StageCtx ctx;
  ctx.snap = &snapshot();
  ctx.now_tsc = now();
  ctx.stats = &s0;
  ctx.pool = packet_pool();
  CaptureOutput out;
  workers_.graph(0).pipeline.run(ctx, dp::NodeId::kParse, &m, 1, out);
  ASSERT_EQ(workers_.mesh().endpoint(0).flush(&s0), 1u);
  apply(sg_policy());  // the same rules, a new generation
  rte_mbuf* in[4];
  ASSERT_EQ(workers_.mesh().endpoint(1).receive(in, 4), 1u);
  ctx.snap = &snapshot();
  ctx.stats = &s1;
  workers_.graph(1).pipeline.run(ctx, dp::NodeId::kHandoff, in, 1, out);
  EXPECT_TRUE(out.captured.empty());
  EXPECT_EQ(s1.drops[static_cast<size_t>(dp::NodeId::kHandoff)][static_cast<size_t>(dp::DropReason::handoff_stale)].get(), 1u);
  EXPECT_EQ(s1.ports[kUnderlayPort].drops.get(), 1u);
  EXPECT_EQ(s1.handoff_received.get(), 1u);
  EXPECT_EQ(s0.handoff_sent.get(), 1u);
}

// A full ring drops what it cannot take, counted, and frees it.
TEST_F(WorkersTest, AFullRingDropsWhatItCannotTake) {
  build_workers(4096, 8);  // 7 slots
  std::vector<Bytes> syns;
  for (uint16_t sport = 1024; syns.size() < 20; ++sport)
    if (owner(sport, 80) == 1) syns.push_back(from_node_b(tcp_frame(T.kRed3, T.kRed1, sport, 80, kSyn)));
  const Handled h = arrive(0, syns, kUnderlayPort);
  EXPECT_EQ(h.handed, 7u);
  EXPECT_EQ(h.outcome.sent.size(), 7u);
  EXPECT_EQ(h.outcome.drops, "handoff_ring_full=13");
  EXPECT_EQ(worker_stats(0).ports[kUnderlayPort].drops.get(), 13u);
}

}  // namespace
}  // namespace weft::test

namespace weft::test {
namespace {

// Backpressure (worker.cc): a worker leaves its rx queues alone while its
// ring to a peer has room for less than one run's hand-over, and while a
// peer's ring to it holds more; both end once the owner has drained.
TEST_F(WorkersTest, ANearlyFullRingHoldsBothWorkersRxBack) {
  dp::HandoffEndpoint& from = workers_.mesh().endpoint(0);
  dp::HandoffEndpoint& to = workers_.mesh().endpoint(1);
  EXPECT_FALSE(from.congested());
  EXPECT_FALSE(to.congested());
  dp::WorkerStats s;
  const Bytes frame = tcp_frame(T.kRed1, T.kRed2, 1, 2, kSyn);
  uint32_t held = 0;
  while (!from.congested()) {
    for (uint32_t i = 0; i < dp::Pipeline::kNodeCapacity / 4; ++i, ++held) {
      rte_mbuf* m = to_mbuf(packet_pool(), frame);
      ASSERT_NE(m, nullptr);
      from.hold(1, m);
    }
    ASSERT_EQ(from.flush(&s), dp::Pipeline::kNodeCapacity / 4);
  }
  EXPECT_EQ(held, dp::HandoffMesh::kDefaultRingSize - dp::Pipeline::kNodeCapacity);  // 768 of 1023
  EXPECT_TRUE(to.congested());
  rte_mbuf* in[dp::Pipeline::kNodeCapacity];
  uint32_t drained = 0;
  while (const uint16_t n = to.receive(in, dp::Pipeline::kNodeCapacity)) {
    rte_pktmbuf_free_bulk(in, n);
    drained += n;
  }
  EXPECT_EQ(drained, held);
  EXPECT_FALSE(from.congested());
  EXPECT_FALSE(to.congested());
}

}  // namespace
}  // namespace weft::test
