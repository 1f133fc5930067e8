#pragma once
// Reconnect delays for the node agent: exponential, capped, with jitter so
// that a fleet of nodes which lost the controller at the same moment does not
// knock on its door at the same moment when it returns.
//
// Delay n (from 0) is drawn uniformly from [d/2, d] with
// d = min(max, initial * 2^n): half the delay is guaranteed (no reconnect
// storms), half is spread. The random source is seeded by the caller, so a
// test gets a reproducible sequence.
//
//   Backoff b(100ms, 10s, seed);
//   timer.expires_after(b.next());    // after each failed attempt
//   b.reset();                        // after a session that worked
//
// Thread-compatible.

#include <chrono>
#include <cstdint>
#include <random>

namespace weft::agent {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
      : initial_(initial), max_(max), rng_(seed) {}

  std::chrono::milliseconds next() {
    std::chrono::milliseconds d = max_;
    if (attempt_ < 32) d = std::min(max_, initial_ * (int64_t{1} << attempt_));
    ++attempt_;
    std::uniform_int_distribution<int64_t> spread(d.count() / 2, d.count());
    return std::chrono::milliseconds(spread(rng_));
  }

  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
  unsigned attempt_ = 0;
};

}  // namespace weft::agent
