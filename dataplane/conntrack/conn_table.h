#pragma once
// ConnTable: one worker's connection table, which is also its flow cache
// (dataplane/flowcache/): each entry carries the connection's state and the
// recorded forwarding result of each direction (conn_entry.h).
//
//   auto table = ConnTable::create(cfg, error);       // all memory, once
//   table->lookup_bulk(keys, n, now, idx);            // a burst at a time
//   if (idx[i] == ConnTable::kNone) ... i = table->insert(key, state, side, now);
//   track(table->entry(i), dir, tuple); table->touch(i, now);
//   table->expire(now, budget);                       // a little every burst
//
// Layout. A bucket array and an entry array, both allocated at start and
// never resized. A bucket is one cache line of 8 slots, each a 16-bit
// signature and a 32-bit entry index; a key may live in one of two buckets
// (the second derived from the first and the signature; an insert that
// finds both full first moves one of their entries to its own other
// bucket, one cuckoo step, before it evicts anything). A lookup hashes
// the key (CRC32-C), reads its bucket and compares signatures with one SSE2
// compare, then reads the one entry whose signature matched and compares
// the key: two cache lines per packet, against three for rte_hash followed
// by an entry array (perf/conntrack_bench measures both). lookup_bulk
// hashes the whole burst and prefetches every bucket first, then every
// candidate entry, as rte_hash_lookup_bulk and VPP's session lookup do.
// Buckets are sized for at most half their slots in use, so most keys sit
// in their first bucket and a lookup reads one.
//
// Translated connections. Under NAT or a load balancer the two directions
// of a connection carry different tuples (client -> VIP, backend ->
// client), so one canonical key cannot find both. translate() gives an
// entry a second key, its reply tuple, in the same buckets (a slot's index
// carries a bit saying which of the entry's keys it holds) and keeps the
// translation in a side array (ConnXlate, conn_entry.h) that untranslated
// connections never touch: every packet is still one lookup, and a hit on
// the reply key reads the side entry as well as the entry.
//
// Memory: 64 bytes per entry, 32 of translation and 16 of buckets
// (bytes_per_entry()), so the default 256k entries take 28 MiB per worker,
// 1M take 112 MiB. Without hugepages, the side array's pages of a table
// that translates nothing are never touched, so never resident.
//
// Eviction: a fair share per port. One table serves every network that
// has ports on the node, so it is shared between tenants. Every entry is
// charged to an owner (ConnEntry::owner): the local port of the connection,
// the vNIC that opened it on the source node, the vNIC it goes to on the
// destination node (kFlowCommit decides). Every entry sits on the list of
// its (owner, class) (ConnClass: closing, embryonic, assured), in the order
// it joined it, and the table counts entries per owner and class (an array
// of kConnOwners; nothing on the hit path reads it).
//
// When every entry is in use, an insert for owner O first reclaims an
// expired entry wherever it sits: a sweep step (expire()) and the oldest few
// of the victim's lists. Failing that it evicts from the heaviest user H
// (the owner with the most entries; O itself when O is at least as heavy):
//   - H's oldest closing entry (tombstones are closing), else its oldest
//     embryonic one; but when that is another port's half-open entry and O
//     holds more embryonic entries than H, O's own oldest embryonic one
//     instead: a SYN flood churns its own half-open entries before it
//     touches anyone's handshake;
//   - else, when H is not O, H's oldest assured entry: established
//     connections are evicted too, but only from the port that holds the
//     most, so no port can hold another out of the table;
//   - else (O is the heaviest and holds only assured entries) nothing: the
//     insert fails and the packet is dropped as ct_table_full. A port's own
//     SYN flood never evicts its own established connections.
// So two VMs filling the table leave room for a third tenant's connection,
// a SYN flood keeps only as much as the next heaviest port once it is the
// heaviest, and from then on churns its own embryonic entries. When a key's
// two buckets are both full (rare: they are sized half full) the same
// preference picks among their 16 entries: expired, then the victim
// owner's closing and embryonic (and assured, when it is not O), then any
// other owner's closing or embryonic entry; never another owner's assured
// one.
//
// Expiry. An entry idle past its state's timeout (conn_state.h) is gone:
// a lookup that finds one removes it and reports a miss, expire() sweeps a
// few entries per call in index order, so memory comes back even for
// connections that never send again, and a full table's insert reclaims
// expired entries before it evicts live ones (above).
//
// Time is an argument (`now`, in TSC ticks of `tsc_hz`); tests use a fake
// clock. Single-threaded: one worker owns a table and is its only user;
// stats() may be read from any thread.

#include <rte_prefetch.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/conntrack/conn_entry.h"
#include "dataplane/conntrack/conn_key.h"
#include "dataplane/conntrack/conn_state.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

enum class TableMemory : uint8_t {
  kDpdk,  // rte_zmalloc_socket: the EAL's memory (weftd on hugepages)
  // Anonymous memory of the process, asked for transparent huge pages
  // (weftd without hugepages, unit tests without an EAL): a table of
  // millions of entries on 4 KiB pages would miss the TLB on every lookup.
  kHeap,
};

struct ConnTableConfig {
  static constexpr uint32_t kDefaultMaxEntries = 256 * 1024;

  uint32_t max_entries = kDefaultMaxEntries;
  ConnTimeouts timeouts;
  uint64_t tsc_hz = 0;  // ticks per second of every `now`; required
  TableMemory memory = TableMemory::kDpdk;
  int socket_id = -1;  // NUMA socket for kDpdk; -1: any
};

// Counters of one table: a single writer (the worker), readable anywhere.
struct ConnTableStats {
  // Kept by the flow cache's stages (flowcache/), once per burst.
  Counter hits;    // packets that took their connection's recorded action
  Counter misses;  // looked up and not a hit: they walked the pipeline, or were dropped

  Counter created;
  Counter expired;                   // idle past the timeout
  Counter removed;                   // by the caller: reopened on the same tuple
  Counter cut;                       // denied by a new policy (kConnCut), tombstones made
  Counter translated;                // translate() calls that bound a translation
  Counter xlate_clash;               // translate() calls refused: the reply key was taken
  Counter evicted[kConnClassCount];  // to make room, by class of the victim
  Counter full;                      // inserts that found no room
};

class ConnTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kMaxBulk = 64;
  static constexpr uint32_t kMaxEntries = 1u << 30;

  // Allocates and initialises everything; null (and `error`) when the
  // config is out of range or the memory cannot be had.
  static std::unique_ptr<ConnTable> create(const ConnTableConfig& cfg, std::string& error);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  // out[i]: the index of keys[i]'s entry, or kNone. n <= kMaxBulk. An entry
  // found expired is removed and reported as kNone. `via_reply` (optional):
  // whether keys[i] matched its entry's reply key (translate()). `hashes`
  // (optional): conn_hash(keys[i]), which the lookup computes anyway.
  void lookup_bulk(const ConnKey* keys, uint32_t n, uint64_t now, uint32_t* out,
                   bool* via_reply = nullptr, uint32_t* hashes = nullptr) noexcept;
  uint32_t lookup(const ConnKey& key, uint64_t now, bool* via_reply = nullptr) noexcept;

  // The direction of a packet whose source is on key side `src_side` of
  // the key that found entry `idx` (`via_reply` as lookup_bulk reported).
  // False for a packet that matched a reply key from the other side: the
  // translated tuple of the original direction, which no packet on this
  // node should carry (a clash with another connection's tuple).
  bool direction(uint32_t idx, bool via_reply, uint8_t src_side, ConnDir& dir) const noexcept {
    if (!via_reply) {
      dir = entries_[idx].dir_of(src_side);
      return true;
    }
    dir = ConnDir::kReply;
    return src_side == xlates_[idx].reply_side;
  }

  // Binds translation `x` to entry `idx` (kConnXlate), which must not have
  // one yet: its reply key joins the table. False, and the entry left as
  // it was, when that key is already another connection's (the caller
  // picks another translation, or drops) or no slot can be had for it.
  bool translate(uint32_t idx, const ConnXlate& x, uint64_t now) noexcept;
  const ConnXlate& xlate(uint32_t idx) const noexcept { return xlates_[idx]; }

  // Adds `key` (which must not be in the table) in `state`, opened from key
  // side `orig_side`, seen at `now`, charged to `owner` (a local port id;
  // clamped below kConnOwners); evicts to make room (see above). A TCP
  // connection that starts past the handshake (ESTABLISHED, FIN_WAIT:
  // picked up) is marked kConnPickup. Returns its index (generation 0, no
  // actions recorded), or kNone.
  uint32_t insert(const ConnKey& key, ConnState state, uint8_t orig_side, uint64_t now,
                  uint16_t owner = 0) noexcept;

  // Removes an entry in use.
  void remove(uint32_t idx) noexcept;

  // The security groups of snapshot `generation` denied entry `idx`: it
  // becomes a tombstone (kConnCut, conn_entry.h) with no recorded actions,
  // on the closing list, so it is the first to go when room is short. It
  // keeps its state and timeout: while the ends keep sending, it stays.
  void cut(uint32_t idx, uint32_t generation, uint64_t now) noexcept;
  // A newer snapshot allows entry `idx` again: no longer a tombstone.
  void uncut(uint32_t idx, uint64_t now) noexcept;

  // A packet of entry `idx` was seen at `now` and track() may have moved
  // its state: stamps it and moves it to the list of its new class.
  void touch(uint32_t idx, uint64_t now) noexcept;

  // Checks up to `budget` entries, in index order from where the last call
  // stopped, and removes the expired ones. Returns how many it removed.
  uint32_t expire(uint64_t now, uint32_t budget) noexcept;

  bool is_expired(const ConnEntry& e, uint64_t now) const noexcept {
    return now > e.last_seen &&
           now - e.last_seen > timeout_[static_cast<size_t>(e.state)][e.answered()];
  }

  ConnEntry& entry(uint32_t idx) noexcept { return entries_[idx]; }
  const ConnEntry& entry(uint32_t idx) const noexcept { return entries_[idx]; }

  uint32_t capacity() const { return capacity_; }
  uint32_t size() const;
  uint32_t size(ConnClass c) const {
    return count_[static_cast<size_t>(c)].load(std::memory_order_relaxed);
  }
  // Entries charged to `owner` (of class `c`). Worker thread only.
  uint32_t owned(uint16_t owner) const noexcept;
  uint32_t owned(uint16_t owner, ConnClass c) const noexcept {
    return owner < kConnOwners ? owner_count_[owner][static_cast<size_t>(c)] : 0;
  }
  size_t memory_bytes() const { return bytes_; }
  // The memory of a table of `max_entries`, and what one entry costs of it,
  // buckets included.
  static size_t bytes_for(uint32_t max_entries);
  static size_t bytes_per_entry(uint32_t max_entries);
  const ConnTableStats& stats() const { return stats_; }
  ConnTableStats& stats() { return stats_; }

 private:
  struct Bucket;
  struct List {
    uint32_t head = kNone, tail = kNone;
  };
  struct Place {
    uint32_t primary, secondary;
    uint16_t sig;
  };

  ConnTable() = default;
  Place place(uint32_t hash) const noexcept;
  uint32_t other_bucket(uint32_t bucket, uint16_t sig) const noexcept;
  // A bucket slot's index: the entry's, with kReplySlot when the slot
  // holds its reply key.
  static constexpr uint32_t kReplySlot = 1u << 31;
  const ConnKey& slot_key(uint32_t slot) const noexcept {
    return (slot & kReplySlot) ? xlates_[slot & ~kReplySlot].reply_key : entries_[slot].key;
  }
  uint32_t find(const ConnKey& key, const Place& p) const noexcept;
  bool take_slot(const Place& p, uint64_t now, uint32_t keep, uint16_t owner, uint16_t*& sig,
                 uint32_t*& idx) noexcept;
  uint32_t take_entry(uint64_t now, uint16_t owner) noexcept;
  uint16_t victim_owner(uint16_t owner) const noexcept;
  uint32_t reclaim_expired(uint16_t owner, uint64_t now) noexcept;
  List& list(uint16_t owner, ConnClass c) noexcept {
    return lists_[owner][static_cast<size_t>(c)];
  }
  void release(uint32_t idx) noexcept;
  void clear_slot(const Place& p, uint32_t slot) noexcept;
  void prefetch_slot(uint32_t slot) const noexcept {
    rte_prefetch0(&entries_[slot & ~kReplySlot]);
    if (slot & kReplySlot) rte_prefetch0(&xlates_[slot & ~kReplySlot]);
  }
  void unlink(uint32_t idx) noexcept;
  void append(uint32_t idx, ConnClass c) noexcept;

  Bucket* buckets_ = nullptr;
  ConnEntry* entries_ = nullptr;
  ConnXlate* xlates_ = nullptr;  // by entry index; valid where kConnXlate
  void* memory_ = nullptr;  // the table: buckets, entries, translations
  void* mapping_ = nullptr;  // kHeap: the whole mapping, memory_ inside it
  size_t mapping_bytes_ = 0;
  TableMemory memory_kind_ = TableMemory::kHeap;
  size_t bytes_ = 0;
  uint32_t bucket_mask_ = 0;
  uint32_t capacity_ = 0;
  uint32_t free_ = kNone;  // free list, through ConnEntry::next
  uint32_t sweep_ = 0;     // next entry expire() looks at
  List lists_[kConnOwners][kConnClassCount];
  uint32_t owner_count_[kConnOwners][kConnClassCount] = {};
  std::atomic<uint32_t> count_[kConnClassCount] = {};
  uint64_t timeout_[kConnStateCount][2] = {};  // TSC ticks, by state and reply seen
  ConnTableStats stats_;
};

}  // namespace weft::dp
