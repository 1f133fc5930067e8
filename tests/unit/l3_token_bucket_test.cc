// The ICMP error rate limit (dataplane/l3/token_bucket.h) on a fake clock:
// it starts full, refills at its rate, never holds more than its burst,
// lets through burst + rate x time over any stretch, and several threads
// taking at once never take more than there is.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dataplane/l3/token_bucket.h"

namespace weft::dp {
namespace {

constexpr uint64_t kHz = 1'000'000;  // fake TSC: one tick per microsecond
constexpr uint64_t kSecond = kHz;

uint64_t take_all(TokenBucket& b, uint64_t now) {
  uint64_t n = 0;
  while (b.try_take(now)) ++n;
  return n;
}

TEST(TokenBucket, StartsFullWithItsBurst) {
  TokenBucket b({.rate = 100, .burst = 5, .tsc_hz = kHz});
  EXPECT_EQ(b.available(0), 5u);
  EXPECT_EQ(take_all(b, 0), 5u);
  EXPECT_EQ(b.available(0), 0u);
  EXPECT_FALSE(b.try_take(0));
}

TEST(TokenBucket, RefillsOneTokenPerInterval) {
  TokenBucket b({.rate = 100, .burst = 5, .tsc_hz = kHz});  // a token per 10 ms
  EXPECT_EQ(b.interval(), 10'000u);
  uint64_t now = 1000 * kSecond;
  EXPECT_EQ(take_all(b, now), 5u);
  EXPECT_FALSE(b.try_take(now + 9'999));
  EXPECT_TRUE(b.try_take(now + 10'000));
  EXPECT_FALSE(b.try_take(now + 10'000));
  EXPECT_FALSE(b.try_take(now + 19'999));
  EXPECT_TRUE(b.try_take(now + 20'000));
  // Half a second later: 50 tokens' worth, but the bucket holds 5.
  EXPECT_EQ(take_all(b, now + kSecond / 2), 5u);
}

TEST(TokenBucket, IdleNeverSavesMoreThanTheBurst) {
  TokenBucket b({.rate = 1000, .burst = 50, .tsc_hz = kHz});
  EXPECT_EQ(take_all(b, 5), 50u);
  EXPECT_EQ(b.available(3600 * kSecond), 50u);
  EXPECT_EQ(take_all(b, 3600 * kSecond), 50u);
}

TEST(TokenBucket, LetsThroughBurstPlusRateTimesTime) {
  // Someone tries every 100 us for 10 s at 1000/s, burst 50.
  TokenBucket b({.rate = 1000, .burst = 50, .tsc_hz = kHz});
  uint64_t allowed = 0;
  for (uint64_t now = 0; now < 10 * kSecond; now += 100) allowed += b.try_take(now);
  EXPECT_GE(allowed, 50u + 10 * 1000 - 1);
  EXPECT_LE(allowed, 50u + 10 * 1000);
}

TEST(TokenBucket, RateZeroAllowsNothingAndBurstZeroIsOne) {
  TokenBucket off({.rate = 0, .burst = 10, .tsc_hz = kHz});
  EXPECT_FALSE(off.try_take(0));
  EXPECT_FALSE(off.try_take(100 * kSecond));
  EXPECT_EQ(off.available(0), 0u);

  TokenBucket one({.rate = 10, .burst = 0, .tsc_hz = kHz});
  EXPECT_EQ(take_all(one, 0), 1u);
  EXPECT_EQ(take_all(one, kSecond / 10), 1u);
}

TEST(TokenBucket, RateAboveTheClockIsOnePerTick) {
  TokenBucket b({.rate = 10 * kHz, .burst = 1, .tsc_hz = kHz});
  EXPECT_EQ(b.interval(), 1u);
  EXPECT_TRUE(b.try_take(10));
  EXPECT_FALSE(b.try_take(10));
  EXPECT_TRUE(b.try_take(11));
}

TEST(TokenBucket, HugeBurstDoesNotWrap) {
  TokenBucket b({.rate = 1, .burst = UINT64_MAX, .tsc_hz = kHz});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(0));
  EXPECT_GT(b.available(0), 1'000'000u);
}

TEST(TokenBucket, AnOlderNowFromAnotherWorkerOnlyMakesItStricter) {
  TokenBucket b({.rate = 100, .burst = 2, .tsc_hz = kHz});
  EXPECT_TRUE(b.try_take(kSecond));
  EXPECT_TRUE(b.try_take(kSecond));
  // A worker whose clock read is a little behind sees no extra token.
  EXPECT_FALSE(b.try_take(kSecond - 500));
  EXPECT_EQ(b.available(kSecond - 500), 0u);
}

// Several workers at once, at one instant and then with time moving: the
// takes add up to what the bucket had, never more.
TEST(TokenBucket, SharedByThreadsNeverGivesMoreThanItHas) {
  constexpr int kThreads = 4;
  TokenBucket b({.rate = 1000, .burst = 64, .tsc_hz = kHz});
  std::atomic<uint64_t> taken{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) {
      }
      uint64_t mine = 0;
      for (int i = 0; i < 10000; ++i) mine += b.try_take(kSecond);
      taken += mine;
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(taken.load(), 64u);

  // Now every thread walks the same clock: 1 s at 1000/s.
  std::atomic<uint64_t> later{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      uint64_t mine = 0;
      for (uint64_t now = kSecond; now <= 2 * kSecond; now += 50) mine += b.try_take(now);
      later += mine;
    });
  }
  for (auto& th : threads) th.join();
  // Tokens come due at 1.001 s .. 2 s; a thread that runs ahead of the
  // others may see some of them lapse, none is ever given twice.
  EXPECT_LE(later.load(), 1000u + 1);
  EXPECT_GE(later.load(), 64u);
}

}  // namespace
}  // namespace weft::dp
