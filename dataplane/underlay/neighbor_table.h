#pragma once
// The underlay ARP cache: the MAC of every underlay neighbor the node sends
// tunnel packets to (each peer VTEP on the underlay subnet, or the configured
// next hop for the ones beyond it).
//
// Why it lives apart from the Snapshot: a Snapshot is immutable, but
// neighbor MACs are learned from the wire at any time. The Dataplane owns
// one NeighborTable for its whole life and every Snapshot points at it
// (Snapshot::neighbors); a snapshot records, per remote VTEP, the slot of its
// next hop, so encap reads a MAC with one array index and one atomic load.
//
// Which addresses it holds: only those the snapshot builder tracks (the
// policy's peers and the next hop), never what the underlay offers, so
// nothing on the wire can grow it. Slots are created, never removed: the
// set is bounded by the distinct peers a node meets in its lifetime
// (kCapacity, an error in the builder when exceeded), and a key that never
// moves needs no reclamation.
//
// Learning (UnderlayArpStage): any worker that receives an ARP from a
// tracked address records its MAC; racing workers store the same value.
// Resolution (VxlanEncapStage): an unresolved neighbor makes encap drop the
// packet (vxlan_neighbor_unresolved) and send an ARP request; a resolved one
// older than the reachable time is still used, and re-probed, as Linux does
// with a STALE entry. Probes are rate-limited per neighbor across workers:
// should_probe() grants one caller per probe interval.
//
// Threads: track() on the main lcore only (the snapshot builder); every
// other member from any thread, lock-free.

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

namespace weft::dp {

class NeighborTable {
 public:
  static constexpr uint32_t kCapacity = 4096;  // a power of two
  static constexpr uint32_t kNone = UINT32_MAX;

  // Intervals in TSC cycles: how often an unresolved or stale neighbor may
  // be probed, and how long a learned MAC counts as confirmed.
  NeighborTable(uint64_t probe_interval_tsc, uint64_t reachable_tsc);
  // The usual intervals (100 ms between probes, 30 s reachable) at the
  // given TSC rate.
  static std::unique_ptr<NeighborTable> with_tsc_hz(uint64_t tsc_hz);

  NeighborTable(const NeighborTable&) = delete;
  NeighborTable& operator=(const NeighborTable&) = delete;

  // Main lcore: the slot of `ip` (host order, not 0), created when new;
  // kNone when the table is full.
  uint32_t track(uint32_t ip);
  // The slot of a tracked address, or kNone.
  uint32_t find(uint32_t ip) const noexcept;
  uint32_t ip(uint32_t slot) const noexcept { return slots_[slot].ip.load(std::memory_order_acquire); }

  // Records that `slot`'s address is at `mac`, confirmed at `now`.
  void learn(uint32_t slot, const rte_ether_addr& mac, uint64_t now) noexcept;
  // The MAC of `slot`, if it has been learned.
  bool lookup(uint32_t slot, rte_ether_addr& mac) const noexcept {
    const uint64_t w = slots_[slot].mac.load(std::memory_order_relaxed);
    if (w == 0) return false;
    std::memcpy(&mac, &w, RTE_ETHER_ADDR_LEN);  // the MAC's bytes in memory order
    return true;
  }
  // True when the MAC was last confirmed more than the reachable time ago.
  bool stale(uint32_t slot, uint64_t now) const noexcept {
    return now - slots_[slot].confirmed.load(std::memory_order_relaxed) > reachable_tsc_;
  }
  // True for at most one caller per probe interval and slot: that caller
  // sends the ARP request.
  bool should_probe(uint32_t slot, uint64_t now) noexcept;

  uint64_t probe_interval_tsc() const { return probe_interval_tsc_; }

 private:
  // A learned MAC as one word: its six bytes in memory order (so reading it
  // back is a copy), and a last byte of 1, so that no learned MAC is 0.
  static uint64_t pack(const rte_ether_addr& mac) {
    uint8_t bytes[sizeof(uint64_t)] = {};
    std::memcpy(bytes, &mac, RTE_ETHER_ADDR_LEN);
    bytes[sizeof bytes - 1] = 1;
    uint64_t w;
    std::memcpy(&w, bytes, sizeof w);
    return w;
  }
  static uint32_t home(uint32_t ip);

  struct alignas(32) Slot {
    std::atomic<uint32_t> ip{0};         // 0: free; written once, by track()
    std::atomic<uint64_t> mac{0};        // pack(mac), or 0 while unresolved
    std::atomic<uint64_t> confirmed{0};  // TSC of the last learn()
    std::atomic<uint64_t> next_probe{0};  // TSC before which no probe is sent
  };

  const uint64_t probe_interval_tsc_;
  const uint64_t reachable_tsc_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace weft::dp
