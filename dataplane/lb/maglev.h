#pragma once
// Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted: the
// lookup table a load balancer's new connections pick their backend from.
//
//   MaglevTable t = MaglevTable::build(backends, MaglevTable::kDefaultSize);
//   uint16_t b = t.pick(flow_hash);   // index into `backends`, or kNone
//
// Each backend fills the table in the order of its own permutation of the
// slots (offset and skip from two hashes of its name, so the order does not
// depend on which other backends exist), taking turns in proportion to its
// weight, until every slot is taken. The properties that matter:
//
//   - balance: each backend holds weight / total of the slots, within one
//     slot per turn; with M > 100 * N the spread is within 1 % (the paper's
//     M = 65537 for up to a few hundred backends);
//   - minimal disruption: removing one of N backends remaps only its own
//     slots and a few others (about 1/N of the table), so new connections
//     of the others mostly keep their backend (tests/unit/maglev_test.cc
//     measures the share).
//
// The backend a connection got is binding state in its connection entry:
// the table only decides for new connections.
//
// Built on the main lcore (allocates M entries); pick() from any worker.

#include <cstdint>
#include <string>
#include <vector>

namespace weft::dp {

struct MaglevBackend {
  std::string name;     // stable identity: the policy port's name
  uint32_t weight = 1;  // 0: out of the selection (unhealthy, drained)
};

class MaglevTable {
 public:
  static constexpr uint32_t kDefaultSize = 65537;  // prime, > 100 x 255 backends' worth of turns
  static constexpr uint16_t kNone = UINT16_MAX;

  // `size` must be prime (it is rounded up to the next prime otherwise).
  // At most 65534 backends; those of weight 0 get no slot. A table with no
  // weighted backend picks kNone.
  static MaglevTable build(const std::vector<MaglevBackend>& backends, uint32_t size = kDefaultSize);

  uint16_t pick(uint32_t hash) const noexcept {
    return slots_.empty() ? kNone : slots_[hash % slots_.size()];
  }
  size_t size() const { return slots_.size(); }
  const std::vector<uint16_t>& slots() const { return slots_; }

 private:
  std::vector<uint16_t> slots_;
};

// The smallest prime >= n.
uint32_t next_prime(uint32_t n);

}  // namespace weft::dp
