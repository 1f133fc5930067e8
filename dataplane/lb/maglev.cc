#include "dataplane/lb/maglev.h"

#include <algorithm>
#include <numeric>

namespace weft::dp {
namespace {

// FNV-1a, 64-bit, with a seed: the two independent hashes of a name that
// give its permutation.
uint64_t fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t{d} * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

}  // namespace

uint32_t next_prime(uint32_t n) {
  while (!is_prime(n)) ++n;
  return n;
}

MaglevTable MaglevTable::build(const std::vector<MaglevBackend>& backends, uint32_t size) {
  MaglevTable t;
  const uint32_t m = next_prime(std::max<uint32_t>(size, 2));
  struct Turn {
    uint16_t index;  // into `backends`
    uint64_t offset, skip, next, credit;
    uint32_t weight;
  };
  std::vector<Turn> turns;
  uint32_t max_weight = 0;
  for (size_t i = 0; i < backends.size() && i < kNone; ++i) {
    if (backends[i].weight == 0) continue;
    const uint64_t offset = fnv1a(backends[i].name, 0x9e3779b97f4a7c15ull) % m;
    const uint64_t skip = fnv1a(backends[i].name, 0xc2b2ae3d27d4eb4full) % (m - 1) + 1;
    turns.push_back({static_cast<uint16_t>(i), offset, skip, 0, 0, backends[i].weight});
    max_weight = std::max(max_weight, backends[i].weight);
  }
  if (turns.empty()) return t;
  // By name, so that the table depends on the set of backends and their
  // weights, not on the order the policy lists them in.
  std::sort(turns.begin(), turns.end(),
            [&](const Turn& a, const Turn& b) { return backends[a.index].name < backends[b.index].name; });

  t.slots_.assign(m, kNone);
  uint32_t filled = 0;
  // Weighted turns: each round, a backend earns its weight in credit and
  // takes a slot per max_weight of credit, so over the table it takes
  // weight / total of the slots (the paper's weighted variant).
  while (filled < m) {
    for (Turn& b : turns) {
      b.credit += b.weight;
      while (b.credit >= max_weight && filled < m) {
        b.credit -= max_weight;
        // Its next preferred slot that is still free.
        uint32_t slot;
        do {
          slot = static_cast<uint32_t>((b.offset + b.next * b.skip) % m);
          ++b.next;
        } while (t.slots_[slot] != kNone);
        t.slots_[slot] = b.index;
        ++filled;
      }
    }
  }
  return t;
}

}  // namespace weft::dp
