#pragma once
// TokenBucket: a rate limit of `rate` events per second with bursts of up
// to `burst`, for the ICMP errors a node sends (DESIGN.md: "rate-limited").
// One bucket per node, shared by every worker:
//
//   TokenBucket icmp_errors(TokenBucket::Config{.rate = 1000, .burst = 50,
//                                               .tsc_hz = rte_get_tsc_hz()});
//   if (icmp_error_allowed(...) && icmp_errors.try_take(now)) ... send the error
//
// Why shared and not per worker: the limit is the node's promise (a flood
// of TTL-1 packets spread over N workers must not make N times the
// errors), and errors are rare enough that one shared cache line costs
// nothing measurable. Why lock-free: a worker must never wait for another.
//
// How. The bucket is kept as one 64-bit word, the time at which it will be
// full again ("theoretical arrival time", the GCRA form of a token bucket,
// ITU-T I.371): each event pushes it `interval` = tsc_hz / rate ticks
// later, and an event is allowed while that time is at most
// (burst - 1) * interval ahead of now. That is exactly a bucket of `burst`
// tokens refilled at `rate` per second, but one word, so a compare-and-swap
// updates it atomically without a lock and without a second field to keep
// consistent. A refused event only reads the word: a flood of refusals does
// not bounce the cache line between workers.
//
// Time is an argument (`now` in TSC ticks of `tsc_hz`), so tests drive it
// with a fake clock; workers' TSCs are synchronised (constant_tsc), and a
// `now` slightly older than another worker's only makes a take stricter.
//
// Thread safety: try_take() from any number of threads at once.

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace weft::dp {

class TokenBucket {
 public:
  struct Config {
    uint64_t rate = 0;    // events per second; 0 allows none
    uint64_t burst = 1;   // events allowed back to back when full; at least 1
    uint64_t tsc_hz = 0;  // ticks per second of every `now`
  };

  explicit TokenBucket(const Config& cfg) noexcept
      : interval_(cfg.rate == 0 || cfg.tsc_hz == 0 ? 0
                                                   : std::max<uint64_t>(1, cfg.tsc_hz / cfg.rate)),
        // A burst the clock cannot express is as good as unlimited; capped
        // so that tolerance_ + interval_ never wraps.
        tolerance_(interval_ == 0 ? 0
                                  : std::min<uint64_t>(std::max<uint64_t>(cfg.burst, 1) - 1,
                                                       kMaxTolerance / interval_) *
                                        interval_) {}
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes one token at time `now` if there is one. Starts full.
  bool try_take(uint64_t now) noexcept {
    if (interval_ == 0) return false;
    uint64_t full_at = full_at_.load(std::memory_order_relaxed);
    for (;;) {
      // Bucket empty: the next token comes at full_at - tolerance.
      if (full_at > now && full_at - now > tolerance_) return false;
      const uint64_t next = std::max(full_at, now) + interval_;
      if (full_at_.compare_exchange_weak(full_at, next, std::memory_order_relaxed)) return true;
    }
  }

  // Tokens available at `now` (for stats and tests; racy by nature).
  uint64_t available(uint64_t now) const noexcept {
    if (interval_ == 0) return 0;
    const uint64_t full_at = full_at_.load(std::memory_order_relaxed);
    const uint64_t ahead = full_at > now ? full_at - now : 0;
    // Another thread's later `now` may have pushed it further.
    if (ahead >= tolerance_ + interval_) return 0;
    return (tolerance_ + interval_ - ahead) / interval_;
  }

  uint64_t interval() const { return interval_; }

 private:
  static constexpr uint64_t kMaxTolerance = uint64_t{1} << 62;

  const uint64_t interval_;   // ticks per token
  const uint64_t tolerance_;  // (burst - 1) * interval_
  std::atomic<uint64_t> full_at_{0};
};

}  // namespace weft::dp
