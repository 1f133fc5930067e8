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
// Which addresses it holds: only those a snapshot tracks (the policy's
// peers and the next hop), never what the underlay offers, so nothing on
// the wire can grow it. Each Snapshot holds a NeighborLease on the slots it
// tracks; a slot no live snapshot leases any more (the last one that did
// has been freed, after its RCU grace period) is released: its key becomes
// a tombstone that lookups step over and a later track() may reuse. So the
// table holds the peers of the snapshots in use (kCapacity of them, an
// error in the builder when exceeded), not every peer the node ever met.
// A worker that found a slot by address just as it was released and
// reused cannot leave the old address's MAC behind: learn() checks the key
// again after its store, and takes its MAC back when the key has changed
// (the new neighbor is then merely unresolved and probed).
//
// Learning (UnderlayArpStage): only a reply to this node's own request
// (expecting(): a probe went out for that slot within kReplyWindow probe
// intervals; the reply is taken once), or a gratuitous ARP from the
// neighbor's own address, teaches a MAC; racing workers store the same
// value.
// Threads: track() and release() on the main lcore only (the snapshot
// builder, and the snapshot's destruction through NeighborLease); every
// other member from any thread, lock-free.

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

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

  // Main lcore: the slot of `ip` (host order, not 0 or kTombstone),
  // created when new, and one more lease on it; kNone when the table is
  // full. Every track() is paired with one release() (NeighborLease does).
  uint32_t track(uint32_t ip);
  // Main lcore: one lease on `slot` fewer; the last one frees the slot.
  void release(uint32_t slot);
  // Slots in use (tracked by some lease).
  uint32_t size() const { return used_; }
  // The slot of a tracked address, or kNone.
  uint32_t find(uint32_t ip) const noexcept;
  uint32_t ip(uint32_t slot) const noexcept { return slots_[slot].ip.load(std::memory_order_acquire); }

  // Records that `slot`'s address (`ip`, as find() was given it) is at
  // `mac`, confirmed at `now`. No effect when the slot holds another
  // address by then.
  void learn(uint32_t slot, uint32_t ip, const rte_ether_addr& mac, uint64_t now) noexcept;
  // True when this node has sent `slot` an ARP request recently enough for
  // a reply to be its answer; takes the expectation (one reply per request).
  bool take_expected_reply(uint32_t slot, uint64_t now) noexcept;
  static constexpr uint64_t kReplyWindow = 10;  // probe intervals
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
  // sends the ARP request, and a reply to it is expected from now on.
  bool should_probe(uint32_t slot, uint64_t now) noexcept;
  static constexpr uint32_t kTombstone = UINT32_MAX;  // a released slot's key

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

  struct alignas(64) Slot {
    std::atomic<uint32_t> ip{0};         // 0: never used; kTombstone: released; by track()
    std::atomic<uint64_t> mac{0};        // pack(mac), or 0 while unresolved
    std::atomic<uint64_t> confirmed{0};  // TSC of the last learn()
    std::atomic<uint64_t> next_probe{0};  // TSC before which no probe is sent
    std::atomic<uint64_t> probed{0};      // TSC of the request awaiting a reply; 0: none
  };

  const uint64_t probe_interval_tsc_;
  const uint64_t reachable_tsc_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint32_t[]> leases_;  // main lcore: leases per slot
  uint32_t used_ = 0;
};

// The slots one snapshot tracks, released when it is destroyed (after its
// RCU grace period, or at once when its build failed). Main lcore only.
class NeighborLease {
 public:
  NeighborLease() = default;
  ~NeighborLease() { clear(); }
  NeighborLease(const NeighborLease&) = delete;
  NeighborLease& operator=(const NeighborLease&) = delete;

  // table.track(ip), remembered for release.
  uint32_t track(const std::shared_ptr<NeighborTable>& table, uint32_t ip) {
    if (table_ && table_ != table) return NeighborTable::kNone;  // one table per lease
    table_ = table;
    const uint32_t slot = table->track(ip);
    if (slot != NeighborTable::kNone) slots_.push_back(slot);
    return slot;
  }
  void clear() {
    if (table_)
      for (uint32_t s : slots_) table_->release(s);
    slots_.clear();
    table_.reset();
  }

 private:
  std::shared_ptr<NeighborTable> table_;
  std::vector<uint32_t> slots_;
};

}  // namespace weft::dp
