#include "dataplane/underlay/neighbor_table.h"

#include <rte_hash_crc.h>

namespace weft::dp {

NeighborTable::NeighborTable(uint64_t probe_interval_tsc, uint64_t reachable_tsc)
    : probe_interval_tsc_(probe_interval_tsc),
      reachable_tsc_(reachable_tsc),
      slots_(std::make_unique<Slot[]>(kCapacity)) {}

std::unique_ptr<NeighborTable> NeighborTable::with_tsc_hz(uint64_t tsc_hz) {
  // Linux's defaults are 1 s between probes and ~30 s reachable; probing
  // faster shortens the loss after a peer first appears.
  return std::make_unique<NeighborTable>(tsc_hz / 10, tsc_hz * 30);
}

uint32_t NeighborTable::home(uint32_t ip) { return rte_hash_crc_4byte(ip, 0) & (kCapacity - 1); }

uint32_t NeighborTable::track(uint32_t ip) {
  if (ip == 0) return kNone;
  for (uint32_t i = 0, s = home(ip); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    const uint32_t key = slots_[s].ip.load(std::memory_order_relaxed);
    if (key == ip) return s;
    if (key == 0) {
      // Only the main lcore writes keys; release so a worker that sees the
      // key sees a zeroed slot behind it.
      slots_[s].ip.store(ip, std::memory_order_release);
      return s;
    }
  }
  return kNone;
}

uint32_t NeighborTable::find(uint32_t ip) const noexcept {
  if (ip == 0) return kNone;
  for (uint32_t i = 0, s = home(ip); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    const uint32_t key = slots_[s].ip.load(std::memory_order_acquire);
    if (key == ip) return s;
    if (key == 0) return kNone;  // keys are never removed: a free slot ends the probe chain
  }
  return kNone;
}

void NeighborTable::learn(uint32_t slot, const rte_ether_addr& mac, uint64_t now) noexcept {
  Slot& s = slots_[slot];
  const uint64_t w = pack(mac);
  // Skip the store when nothing changed: the line stays shared between the
  // workers that read it on every encap.
  if (s.mac.load(std::memory_order_relaxed) != w) s.mac.store(w, std::memory_order_relaxed);
  s.confirmed.store(now, std::memory_order_relaxed);
  // A confirmed neighbor needs no probe for a reachable time; let the stale
  // check re-arm probing then.
  s.next_probe.store(0, std::memory_order_relaxed);
}

bool NeighborTable::should_probe(uint32_t slot, uint64_t now) noexcept {
  Slot& s = slots_[slot];
  uint64_t due = s.next_probe.load(std::memory_order_relaxed);
  if (now < due) return false;
  return s.next_probe.compare_exchange_strong(due, now + probe_interval_tsc_, std::memory_order_relaxed);
}

}  // namespace weft::dp
