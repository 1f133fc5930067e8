// SnapshotPublisher: a retired snapshot outlives every reader that may still
// hold it, and no longer. Needs no EAL: the QSBR variable is ordinary memory.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "dataplane/tables/publisher.h"

namespace weft::dp {
namespace {

std::string name_of(uint64_t version) {
  std::string s = "v";
  s += std::to_string(version);
  return s;
}

std::unique_ptr<Snapshot> snapshot_with(uint64_t version) {
  auto s = std::make_unique<Snapshot>();
  s->policy_version = version;
  s->ports[0] = PortEntry{PortRole::kUnderlay, VnicKind::kDpdk, name_of(version)};
  return s;
}

TEST(SnapshotPublisher, StampsGenerations) {
  SnapshotPublisher pub(1);
  EXPECT_EQ(pub.current(), nullptr);
  EXPECT_EQ(pub.publish(snapshot_with(7)), 1u);
  EXPECT_EQ(pub.publish(snapshot_with(8)), 2u);
  EXPECT_EQ(pub.current()->generation, 2u);
  EXPECT_EQ(pub.current()->policy_version, 8u);
}

TEST(SnapshotPublisher, FreesOnlyAfterEveryOnlineReaderWasQuiescent) {
  SnapshotPublisher pub(2);
  rte_rcu_qsbr* v = pub.qsbr();
  pub.publish(snapshot_with(1));
  ASSERT_EQ(rte_rcu_qsbr_thread_register(v, 0), 0);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(v, 1), 0);
  rte_rcu_qsbr_thread_online(v, 0);
  rte_rcu_qsbr_thread_online(v, 1);

  pub.publish(snapshot_with(2));  // retires generation 1
  EXPECT_EQ(pub.reclaim(), 1u);
  rte_rcu_qsbr_quiescent(v, 0);
  EXPECT_EQ(pub.reclaim(), 1u) << "reader 1 may still hold generation 1";
  rte_rcu_qsbr_quiescent(v, 1);
  EXPECT_EQ(pub.reclaim(), 0u);

  // An offline reader (a sleeping worker) holds nothing back.
  rte_rcu_qsbr_thread_offline(v, 1);
  pub.publish(snapshot_with(3));
  EXPECT_EQ(pub.reclaim(), 1u);
  rte_rcu_qsbr_quiescent(v, 0);
  EXPECT_EQ(pub.reclaim(), 0u);

  rte_rcu_qsbr_thread_offline(v, 0);
  rte_rcu_qsbr_thread_unregister(v, 0);
  rte_rcu_qsbr_thread_unregister(v, 1);
}

TEST(SnapshotPublisher, RetiresInOrder) {
  SnapshotPublisher pub(1);
  rte_rcu_qsbr* v = pub.qsbr();
  ASSERT_EQ(rte_rcu_qsbr_thread_register(v, 0), 0);
  rte_rcu_qsbr_thread_online(v, 0);
  pub.publish(snapshot_with(1));
  pub.publish(snapshot_with(2));
  rte_rcu_qsbr_quiescent(v, 0);  // past generation 1's retirement only
  pub.publish(snapshot_with(3));
  EXPECT_EQ(pub.pending(), 1u) << "generation 1 freed at once, generation 2 waits";
  rte_rcu_qsbr_quiescent(v, 0);
  EXPECT_EQ(pub.reclaim(), 0u);
  rte_rcu_qsbr_thread_offline(v, 0);
  rte_rcu_qsbr_thread_unregister(v, 0);
}

// synchronize() is what weftd's controller mode waits on before it acks a
// version: it must not return while a reader may still use an older
// snapshot, and must free it once none can.
TEST(SnapshotPublisher, SynchronizeWaitsForEveryOnlineReader) {
  SnapshotPublisher pub(1);
  pub.publish(snapshot_with(1));
  std::atomic<bool> holding{false}, release{false}, done{false};
  std::atomic<bool> intact{false};
  std::thread reader([&] {
    rte_rcu_qsbr* v = pub.qsbr();
    rte_rcu_qsbr_thread_register(v, 0);
    rte_rcu_qsbr_thread_online(v, 0);
    const Snapshot* held = pub.current();  // generation 1, mid-burst
    holding = true;
    while (!release) std::this_thread::yield();
    intact = held->ports[0].name == name_of(1);  // ASan: no use after free
    rte_rcu_qsbr_quiescent(v, 0);
    rte_rcu_qsbr_thread_offline(v, 0);
    rte_rcu_qsbr_thread_unregister(v, 0);
  });
  while (!holding) std::this_thread::yield();
  pub.publish(snapshot_with(2));
  std::thread writer([&] {
    pub.synchronize();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done) << "synchronize() returned while a reader held generation 1";
  release = true;
  writer.join();
  reader.join();
  EXPECT_TRUE(done);
  EXPECT_TRUE(intact);
  EXPECT_EQ(pub.pending(), 0u);
}

// A reader hammering current() while the writer publishes and reclaims: the
// reader must only ever see a whole, live snapshot (AddressSanitizer would
// catch a use after free), and memory must not pile up.
TEST(SnapshotPublisher, ConcurrentReaderNeverSeesAFreedSnapshot) {
  SnapshotPublisher pub(1);
  pub.publish(snapshot_with(1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::atomic<bool> torn{false};
  std::thread reader([&] {
    rte_rcu_qsbr* v = pub.qsbr();
    rte_rcu_qsbr_thread_register(v, 0);
    rte_rcu_qsbr_thread_online(v, 0);
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const Snapshot* s = pub.current();
      const uint64_t version = s->policy_version;
      if (s->ports[0].name != name_of(version) || version < last) torn = true;
      last = version;
      reads.fetch_add(1, std::memory_order_relaxed);
      rte_rcu_qsbr_quiescent(v, 0);
    }
    rte_rcu_qsbr_thread_offline(v, 0);
    rte_rcu_qsbr_thread_unregister(v, 0);
  });
  while (reads.load() == 0) std::this_thread::yield();  // the reader is online
  for (uint64_t version = 2; version <= 300; ++version) {
    pub.publish(snapshot_with(version));
    while (pub.pending() > 8) {
      pub.reclaim();
      std::this_thread::yield();
    }
  }
  stop = true;
  reader.join();
  pub.synchronize();
  EXPECT_EQ(pub.pending(), 0u);
  EXPECT_FALSE(torn);
  EXPECT_GT(reads.load(), 0u);
}

}  // namespace
}  // namespace weft::dp
