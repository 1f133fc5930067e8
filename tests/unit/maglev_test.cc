// Maglev consistent hashing (dataplane/lb/maglev.h): the table's balance by
// weight, and how little of it moves when a backend comes or goes.

#include <gtest/gtest.h>

#include <map>

#include "dataplane/lb/maglev.h"

namespace weft::dp {
namespace {

std::vector<MaglevBackend> backends(int n, uint32_t weight = 1) {
  std::vector<MaglevBackend> b;
  for (int i = 0; i < n; ++i) b.push_back({"web-" + std::to_string(i), weight});
  return b;
}

std::map<uint16_t, size_t> shares(const MaglevTable& t) {
  std::map<uint16_t, size_t> n;
  for (uint16_t s : t.slots()) ++n[s];
  return n;
}

TEST(Maglev, TheTableIsPrimeAndFull) {
  EXPECT_EQ(next_prime(65536), 65537u);
  EXPECT_EQ(next_prime(100), 101u);
  const MaglevTable t = MaglevTable::build(backends(3), 1000);
  EXPECT_EQ(t.size(), 1009u) << "rounded up to a prime";
  for (uint16_t s : t.slots()) EXPECT_LT(s, 3);
  EXPECT_EQ(MaglevTable::build({}).pick(42), MaglevTable::kNone);
  EXPECT_EQ(MaglevTable::build({{"a", 0}}).pick(42), MaglevTable::kNone) << "weight 0 takes no slot";
}

TEST(Maglev, EqualWeightsShareWithinOnePercent) {
  const MaglevTable t = MaglevTable::build(backends(16));
  const double fair = static_cast<double>(t.size()) / 16;
  for (const auto& [b, n] : shares(t)) EXPECT_NEAR(static_cast<double>(n), fair, fair * 0.01) << "backend " << b;
}

TEST(Maglev, WeightsDecideTheShares) {
  std::vector<MaglevBackend> b = {{"a", 1}, {"b", 2}, {"c", 5}};
  const MaglevTable t = MaglevTable::build(b);
  const auto n = shares(t);
  const double total = static_cast<double>(t.size());
  EXPECT_NEAR(n.at(0) / total, 1.0 / 8, 0.005);
  EXPECT_NEAR(n.at(1) / total, 2.0 / 8, 0.005);
  EXPECT_NEAR(n.at(2) / total, 5.0 / 8, 0.005);
}

// Removing one of N backends remaps about 1/N of the table: its own slots,
// and few others.
TEST(Maglev, RemovingOneOfNMovesAboutOneNth) {
  for (int n : {3, 8, 16, 64}) {
    auto all = backends(n);
    const MaglevTable before = MaglevTable::build(all);
    all[static_cast<size_t>(n / 2)].weight = 0;  // out: failed its health check
    const MaglevTable after = MaglevTable::build(all);
    size_t moved = 0, moved_others = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      if (before.slots()[i] == after.slots()[i]) continue;
      ++moved;
      if (before.slots()[i] != n / 2) ++moved_others;
    }
    const double share = static_cast<double>(moved) / static_cast<double>(before.size());
    EXPECT_NEAR(share, 1.0 / n, 0.5 / n) << n << " backends: moved " << moved;
    EXPECT_LT(static_cast<double>(moved_others) / static_cast<double>(before.size()), 0.2 / n + 0.01)
        << n << " backends: slots of the others that moved";
    RecordProperty("moved_share_" + std::to_string(n), std::to_string(share));
  }
}

TEST(Maglev, TheOrderOfBackendsDoesNotMatter) {
  auto b = backends(5);
  const MaglevTable t1 = MaglevTable::build(b);
  std::reverse(b.begin(), b.end());
  const MaglevTable t2 = MaglevTable::build(b);
  // Same backend (by name) in every slot, though its index differs.
  for (size_t i = 0; i < t1.size(); ++i)
    EXPECT_EQ("web-" + std::to_string(t1.slots()[i]), b[t2.slots()[i]].name);
}

}  // namespace
}  // namespace weft::dp
