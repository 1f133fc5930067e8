#include "dataplane/underlay/neighbor_table.h"

#include <rte_hash_crc.h>

namespace weft::dp {

NeighborTable::NeighborTable(uint64_t probe_interval_tsc, uint64_t reachable_tsc)
    : probe_interval_tsc_(probe_interval_tsc),
      reachable_tsc_(reachable_tsc),
      slots_(std::make_unique<Slot[]>(kCapacity)),
      leases_(std::make_unique<uint32_t[]>(kCapacity)) {}

std::unique_ptr<NeighborTable> NeighborTable::with_tsc_hz(uint64_t tsc_hz) {
  // Linux's defaults are 1 s between probes and ~30 s reachable; probing
  // faster shortens the loss after a peer first appears.
  return std::make_unique<NeighborTable>(tsc_hz / 10, tsc_hz * 30);
}

uint32_t NeighborTable::home(uint32_t ip) { return rte_hash_crc_4byte(ip, 0) & (kCapacity - 1); }

uint32_t NeighborTable::track(uint32_t ip) {
  if (ip == 0 || ip == kTombstone) return kNone;
  uint32_t reuse = kNone;  // the first released slot on the probe chain
  uint32_t s = home(ip);
  for (uint32_t i = 0; i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    const uint32_t key = slots_[s].ip.load(std::memory_order_relaxed);
    if (key == ip) {
      ++leases_[s];
      return s;
    }
    if (key == kTombstone && reuse == kNone) reuse = s;
    if (key == 0) break;
  }
  if (reuse == kNone) {
    if (slots_[s].ip.load(std::memory_order_relaxed) != 0) return kNone;  // full
    reuse = s;
  }
  // A fresh start, then the key: a worker that sees the key sees the zeroed
  // slot behind it (seq_cst pairs with learn()'s re-check of the key).
  Slot& slot = slots_[reuse];
  slot.mac.store(0, std::memory_order_relaxed);
  slot.confirmed.store(0, std::memory_order_relaxed);
  slot.next_probe.store(0, std::memory_order_relaxed);
  slot.probed.store(0, std::memory_order_relaxed);
  slot.ip.store(ip, std::memory_order_seq_cst);
  leases_[reuse] = 1;
  ++used_;
  return reuse;
}

void NeighborTable::release(uint32_t slot) {
  if (slot >= kCapacity || leases_[slot] == 0) return;
  if (--leases_[slot] != 0) return;
  slots_[slot].ip.store(kTombstone, std::memory_order_seq_cst);
  slots_[slot].mac.store(0, std::memory_order_relaxed);
  --used_;
}

uint32_t NeighborTable::find(uint32_t ip) const noexcept {
  if (ip == 0 || ip == kTombstone) return kNone;
  for (uint32_t i = 0, s = home(ip); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    const uint32_t key = slots_[s].ip.load(std::memory_order_acquire);
    if (key == ip) return s;
    if (key == 0) return kNone;  // never used: the end of the probe chain (tombstones are not)
  }
  return kNone;
}

void NeighborTable::learn(uint32_t slot, uint32_t ip, const rte_ether_addr& mac, uint64_t now) noexcept {
  Slot& s = slots_[slot];
  if (s.ip.load(std::memory_order_acquire) != ip) return;
  const uint64_t w = pack(mac);
  // Skip the store when nothing changed: the line stays shared between the
  // workers that read it on every encap.
  if (s.mac.load(std::memory_order_relaxed) != w) s.mac.store(w, std::memory_order_seq_cst);
  // Released and reused for another address since the check above: take
  // the MAC back unless the new neighbor has learned its own.
  if (s.ip.load(std::memory_order_seq_cst) != ip) {
    uint64_t expected = w;
    s.mac.compare_exchange_strong(expected, 0, std::memory_order_relaxed);
    return;
  }
  s.confirmed.store(now, std::memory_order_relaxed);
  // A confirmed neighbor needs no probe for a reachable time; let the stale
  // check re-arm probing then.
  s.next_probe.store(0, std::memory_order_relaxed);
}

bool NeighborTable::take_expected_reply(uint32_t slot, uint64_t now) noexcept {
  Slot& s = slots_[slot];
  uint64_t sent = s.probed.load(std::memory_order_relaxed);
  if (sent == 0 || (now > sent && now - sent > kReplyWindow * probe_interval_tsc_)) return false;
  return s.probed.compare_exchange_strong(sent, 0, std::memory_order_relaxed);
}

bool NeighborTable::should_probe(uint32_t slot, uint64_t now) noexcept {
  Slot& s = slots_[slot];
  uint64_t due = s.next_probe.load(std::memory_order_relaxed);
  if (now < due) return false;
  if (!s.next_probe.compare_exchange_strong(due, now + probe_interval_tsc_, std::memory_order_relaxed))
    return false;
  s.probed.store(now != 0 ? now : 1, std::memory_order_relaxed);
  return true;
}

}  // namespace weft::dp
