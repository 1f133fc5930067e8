#include <gtest/gtest.h>

#include "dataplane/agent/backoff.h"

namespace weft::agent {
namespace {

using std::chrono::milliseconds;

TEST(AgentBackoff, DoublesWithinHalfToFullAndCaps) {
  Backoff b(milliseconds(100), milliseconds(1000), 42);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    auto d = b.next().count();
    EXPECT_GE(d, ceiling / 2);
    EXPECT_LE(d, ceiling);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

TEST(AgentBackoff, SeedsGiveReproducibleButDifferentSequences) {
  Backoff a(milliseconds(100), milliseconds(100000), 1), a2(milliseconds(100), milliseconds(100000), 1),
      c(milliseconds(100), milliseconds(100000), 2);
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    auto x = a.next();
    EXPECT_EQ(x, a2.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs) << "jitter spreads nodes that lost the controller together";
}

TEST(AgentBackoff, ManyAttemptsDoNotOverflow) {
  Backoff b(milliseconds(1), milliseconds(5000), 3);
  for (int i = 0; i < 200; ++i) {
    auto d = b.next().count();
    ASSERT_GE(d, 0);
    ASSERT_LE(d, 5000);
  }
}

}  // namespace
}  // namespace weft::agent
