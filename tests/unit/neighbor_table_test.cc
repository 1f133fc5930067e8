// The underlay ARP cache (dataplane/underlay/neighbor_table.h) without an
// EAL: slots are leased by snapshots and come back when the last lease on
// them goes, so a node that meets more than kCapacity peers over its life
// keeps building snapshots (issue 17, item 9); a released slot is skipped
// by lookups and reused, and a late learn() for the old address never
// leaves its MAC in the new neighbor's slot.

#include <gtest/gtest.h>

#include <memory>

#include "dataplane/underlay/neighbor_table.h"

namespace weft::dp {
namespace {

rte_ether_addr mac_of(uint8_t last) {
  rte_ether_addr a{{0x02, 0, 0, 0, 0, last}};
  return a;
}

TEST(NeighborTable, SlotsComeBackWhenNoSnapshotLeasesThem) {
  auto table = std::make_shared<NeighborTable>(10, 1000);
  // Generation after generation of snapshots, each with a whole table of
  // peers nobody had before.
  for (uint32_t gen = 0; gen < 4; ++gen) {
    auto lease = std::make_unique<NeighborLease>();
    for (uint32_t i = 0; i < NeighborTable::kCapacity; ++i)
      ASSERT_NE(lease->track(table, 0x0a000000u + gen * NeighborTable::kCapacity + i + 1), NeighborTable::kNone)
          << "generation " << gen << ", peer " << i;
    EXPECT_EQ(table->size(), NeighborTable::kCapacity);
    EXPECT_EQ(lease->track(table, 0x0b000001u), NeighborTable::kNone) << "full while leased";
    lease.reset();  // the snapshot is freed
    EXPECT_EQ(table->size(), 0u);
  }
}

TEST(NeighborTable, ASlotLeasedTwiceStaysUntilBothGo) {
  auto table = std::make_shared<NeighborTable>(10, 1000);
  auto old_snap = std::make_unique<NeighborLease>();
  auto new_snap = std::make_unique<NeighborLease>();
  const uint32_t a = old_snap->track(table, 0xac1f0002u);
  const uint32_t b = new_snap->track(table, 0xac1f0002u);
  ASSERT_EQ(a, b);
  table->learn(a, 0xac1f0002u, mac_of(2), 5);
  old_snap.reset();
  EXPECT_EQ(table->find(0xac1f0002u), a);
  rte_ether_addr m;
  EXPECT_TRUE(table->lookup(a, m)) << "the MAC survives while a snapshot uses the slot";
  new_snap.reset();
  EXPECT_EQ(table->find(0xac1f0002u), NeighborTable::kNone);
}

TEST(NeighborTable, AReleasedSlotIsSkippedAndReused) {
  auto table = std::make_shared<NeighborTable>(10, 1000);
  // Fill every slot, so each address's chain runs through the others'.
  auto all = std::make_unique<NeighborLease>();
  for (uint32_t i = 1; i <= NeighborTable::kCapacity; ++i) ASSERT_NE(all->track(table, i), NeighborTable::kNone);
  auto keep = std::make_unique<NeighborLease>();
  for (uint32_t i = 1; i <= NeighborTable::kCapacity; i += 2) keep->track(table, i);
  all.reset();  // the even addresses go
  EXPECT_EQ(table->size(), NeighborTable::kCapacity / 2);
  for (uint32_t i = 1; i <= NeighborTable::kCapacity; ++i)
    ASSERT_EQ(table->find(i) != NeighborTable::kNone, i % 2 == 1) << i;
  // The freed slots take new addresses; a learn for an old address that
  // raced its release does not land in them.
  const uint32_t old_slot = [&] {
    auto probe = std::make_unique<NeighborLease>();
    return probe->track(table, 2);
  }();
  auto fresh = std::make_unique<NeighborLease>();
  uint32_t reused = NeighborTable::kNone;
  for (uint32_t i = 0; i < NeighborTable::kCapacity / 2; ++i) {
    const uint32_t s = fresh->track(table, 0x10000000u + i);
    ASSERT_NE(s, NeighborTable::kNone) << i;
    if (s == old_slot) reused = 0x10000000u + i;
  }
  ASSERT_NE(reused, NeighborTable::kNone);
  table->learn(old_slot, 2, mac_of(2), 7);
  rte_ether_addr m;
  EXPECT_FALSE(table->lookup(old_slot, m)) << "address 2's MAC in " << reused << "'s slot";
}

TEST(NeighborTable, AReplyIsExpectedOnlyAfterAProbe) {
  NeighborTable table(10, 1000);
  auto lease = std::make_unique<NeighborLease>();
  std::shared_ptr<NeighborTable> shared(&table, [](NeighborTable*) {});
  const uint32_t s = lease->track(shared, 0xac1f0002u);
  EXPECT_FALSE(table.take_expected_reply(s, 5));
  ASSERT_TRUE(table.should_probe(s, 5));
  EXPECT_TRUE(table.take_expected_reply(s, 6));
  EXPECT_FALSE(table.take_expected_reply(s, 7)) << "one reply per request";
  ASSERT_TRUE(table.should_probe(s, 20));
  EXPECT_FALSE(table.take_expected_reply(s, 20 + NeighborTable::kReplyWindow * 10 + 1)) << "too late";
  lease.reset();
}

}  // namespace
}  // namespace weft::dp
