#include "dataplane/conntrack/conn_table.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <sys/mman.h>

#include <bit>
#include <cstring>
#include <new>

namespace weft::dp {

namespace {
constexpr uint32_t kSlots = 8;
constexpr size_t kLine = 64;
constexpr size_t kHugePage = 2u << 20;
// At most half the slots in use when the table is full.
constexpr uint32_t kEntriesPerBucket = kSlots / 2;
}  // namespace

struct alignas(kLine) ConnTable::Bucket {
  uint16_t sig[kSlots];  // 0: the slot is empty
  uint32_t idx[kSlots];
};

namespace {

// One bit per slot whose signature is `sig`, at bit 2 * slot.
inline uint32_t slots_matching(const uint16_t* sigs, uint16_t sig) {
#if defined(__SSE2__)
  const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(sigs));
  const __m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16(static_cast<short>(sig)));
  return static_cast<uint32_t>(_mm_movemask_epi8(eq)) & 0x5555u;
#else
  uint32_t m = 0;
  for (uint32_t s = 0; s < kSlots; ++s)
    if (sigs[s] == sig) m |= 1u << (2 * s);
  return m;
#endif
}

inline uint32_t first_slot(uint32_t mask) {
  return static_cast<uint32_t>(std::countr_zero(mask)) >> 1;
}
inline uint32_t next_match(uint32_t mask) {
  return mask & (mask - 1);
}

uint32_t buckets_for(uint32_t max_entries) {
  return std::bit_ceil(
      std::max<uint32_t>((max_entries + kEntriesPerBucket - 1) / kEntriesPerBucket, 2));
}

}  // namespace

size_t ConnTable::bytes_for(uint32_t max_entries) {
  static_assert(sizeof(Bucket) == kLine, "a bucket is one cache line");
  return size_t{buckets_for(max_entries)} * sizeof(Bucket) +
         size_t{max_entries} * (sizeof(ConnEntry) + sizeof(ConnXlate));
}

size_t ConnTable::bytes_per_entry(uint32_t max_entries) {
  if (max_entries == 0) return 0;
  return (bytes_for(max_entries) + max_entries - 1) / max_entries;
}

std::unique_ptr<ConnTable> ConnTable::create(const ConnTableConfig& cfg, std::string& error) {
  if (cfg.max_entries == 0 || cfg.max_entries > kMaxEntries) {
    error = "conntrack: max_entries must be 1.." + std::to_string(kMaxEntries) + ", not " +
            std::to_string(cfg.max_entries);
    return nullptr;
  }
  if (cfg.tsc_hz == 0) {
    error = "conntrack: tsc_hz is not set";
    return nullptr;
  }
  std::unique_ptr<ConnTable> t(new (std::nothrow) ConnTable());
  if (!t) {
    error = "conntrack: out of memory";
    return nullptr;
  }
  const uint32_t buckets = buckets_for(cfg.max_entries);
  const size_t bucket_bytes = size_t{buckets} * sizeof(Bucket);
  t->bytes_ = bytes_for(cfg.max_entries);
  t->memory_kind_ = cfg.memory;
  if (cfg.memory == TableMemory::kDpdk) {
    t->memory_ = rte_zmalloc_socket("weft_conntrack", t->bytes_, kLine, cfg.socket_id);
  } else {
    // Zeroed by the kernel; aligned to a huge page so that all of it can
    // be backed by them.
    t->mapping_bytes_ = t->bytes_ + kHugePage;
    void* m = mmap(nullptr, t->mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
      t->mapping_ = m;
      const auto at = (reinterpret_cast<uintptr_t>(m) + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
      t->memory_ = reinterpret_cast<void*>(at);
      madvise(t->memory_, t->bytes_, MADV_HUGEPAGE);  // a hint: fine if refused
    }
  }
  if (t->memory_ == nullptr) {
    error = "conntrack: cannot allocate " + std::to_string(t->bytes_ >> 20) + " MiB for " +
            std::to_string(cfg.max_entries) + " connections";
    return nullptr;
  }
  t->buckets_ = static_cast<Bucket*>(t->memory_);
  t->entries_ = reinterpret_cast<ConnEntry*>(static_cast<char*>(t->memory_) + bucket_bytes);
  t->xlates_ = reinterpret_cast<ConnXlate*>(t->entries_ + cfg.max_entries);
  t->bucket_mask_ = buckets - 1;
  t->capacity_ = cfg.max_entries;
  for (uint32_t i = 0; i < cfg.max_entries; ++i) {
    t->entries_[i].state = ConnState::kFree;
    t->entries_[i].next = i + 1 < cfg.max_entries ? i + 1 : kNone;
  }
  t->free_ = 0;
  for (size_t s = 0; s < kConnStateCount; ++s)
    for (int replied = 0; replied < 2; ++replied)
      t->timeout_[s][replied] =
          uint64_t{cfg.timeouts.for_state(static_cast<ConnState>(s), replied != 0)} * cfg.tsc_hz;
  return t;
}

ConnTable::~ConnTable() {
  if (memory_kind_ == TableMemory::kDpdk)
    rte_free(memory_);
  else if (mapping_ != nullptr)
    munmap(mapping_, mapping_bytes_);
}

uint32_t ConnTable::size() const {
  uint32_t n = 0;
  for (const auto& c : count_) n += c.load(std::memory_order_relaxed);
  return n;
}

// The other bucket of a key depends only on the bucket it is in and its
// signature, and going there twice comes back (an XOR, as in rte_hash):
// an entry can move to its other bucket knowing nothing but its signature.
uint32_t ConnTable::other_bucket(uint32_t bucket, uint16_t sig) const noexcept {
  const uint32_t delta = (uint32_t{sig} * 0x9e3779b1u) & bucket_mask_;
  return bucket ^ (delta != 0 ? delta : 1);
}

ConnTable::Place ConnTable::place(uint32_t hash) const noexcept {
  Place p;
  p.sig = static_cast<uint16_t>(hash >> 16);
  p.sig += p.sig == 0;
  p.primary = hash & bucket_mask_;
  p.secondary = other_bucket(p.primary, p.sig);
  return p;
}

// Returns the slot value (the entry's index, kReplySlot when it is the
// reply key that matched), or kNone.
uint32_t ConnTable::find(const ConnKey& key, const Place& p) const noexcept {
  for (uint32_t b : {p.primary, p.secondary}) {
    const Bucket& bucket = buckets_[b];
    for (uint32_t m = slots_matching(bucket.sig, p.sig); m != 0; m = next_match(m)) {
      const uint32_t slot = bucket.idx[first_slot(m)];
      if (slot_key(slot) == key) return slot;
    }
  }
  return kNone;
}

void ConnTable::lookup_bulk(const ConnKey* keys, uint32_t n, uint64_t now, uint32_t* out,
                            bool* via_reply, uint32_t* hashes) noexcept {
  Place pl[kMaxBulk];
  uint32_t cand[kMaxBulk];
  bool second[kMaxBulk];  // no signature matched in the first bucket
  // Hash everything and fetch the buckets; then the candidate entries; the
  // misses touch their second bucket. Each pass gives the previous one's
  // prefetches a burst's worth of work to hide behind.
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t h = conn_hash(keys[i]);
    if (hashes != nullptr) hashes[i] = h;
    pl[i] = place(h);
    rte_prefetch0(&buckets_[pl[i].primary]);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const Bucket& b = buckets_[pl[i].primary];
    const uint32_t m = slots_matching(b.sig, pl[i].sig);
    second[i] = m == 0;
    if (m != 0) {
      cand[i] = b.idx[first_slot(m)];
      prefetch_slot(cand[i]);
    } else {
      cand[i] = kNone;
      rte_prefetch0(&buckets_[pl[i].secondary]);
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!second[i]) continue;
    const Bucket& b = buckets_[pl[i].secondary];
    const uint32_t m = slots_matching(b.sig, pl[i].sig);
    if (m != 0) {
      cand[i] = b.idx[first_slot(m)];
      prefetch_slot(cand[i]);
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t slot = cand[i];
    // A signature clash, or an entry released by an earlier key of this
    // burst (the same connection, expired): search properly.
    if (slot != kNone && (entries_[slot & ~kReplySlot].state == ConnState::kFree ||
                          !(slot_key(slot) == keys[i])))
      slot = find(keys[i], pl[i]);
    uint32_t idx = slot == kNone ? kNone : slot & ~kReplySlot;
    if (idx != kNone && is_expired(entries_[idx], now)) {
      release(idx);
      stats_.expired.inc();
      idx = kNone;
    }
    out[i] = idx;
    if (via_reply != nullptr) via_reply[i] = idx != kNone && (slot & kReplySlot);
  }
}

uint32_t ConnTable::lookup(const ConnKey& key, uint64_t now, bool* via_reply) noexcept {
  uint32_t idx = kNone;
  lookup_bulk(&key, 1, now, &idx, via_reply);
  return idx;
}

uint32_t ConnTable::owned(uint16_t owner) const noexcept {
  if (owner >= kConnOwners) return 0;
  uint32_t n = 0;
  for (uint32_t c : owner_count_[owner]) n += c;
  return n;
}

// The owner a full table takes from for an insert charged to `owner`: the
// one with the most entries, `owner` itself when none has more.
uint16_t ConnTable::victim_owner(uint16_t owner) const noexcept {
  uint16_t heavy = owner;
  uint32_t most = owned(owner);
  for (uint16_t o = 0; o < kConnOwners; ++o) {
    const uint32_t n = owned(o);
    if (n > most) {
      most = n;
      heavy = o;
    }
  }
  return heavy;
}

namespace {
// How far into each list of the victim owner a full table looks for an
// expired entry, and how many entries of the sweep it runs first.
constexpr uint32_t kReclaimListScan = 4;
constexpr uint32_t kReclaimSweep = 16;
}  // namespace

// Frees one expired entry, if a sweep step or the oldest few entries of
// `owner`'s lists hold one. Returns how many it freed.
uint32_t ConnTable::reclaim_expired(uint16_t owner, uint64_t now) noexcept {
  if (expire(now, kReclaimSweep) > 0) return 1;
  for (size_t c = 0; c < kConnClassCount; ++c) {
    uint32_t idx = lists_[owner][c].head;
    for (uint32_t k = 0; k < kReclaimListScan && idx != kNone; ++k, idx = entries_[idx].next) {
      if (is_expired(entries_[idx], now)) {
        release(idx);
        stats_.expired.inc();
        return 1;
      }
    }
  }
  return 0;
}

// `keep`: an entry that must not be evicted to make room (the one a
// reply key is being added for), or kNone. `owner`: who the room is for.
bool ConnTable::take_slot(const Place& p, uint64_t now, uint32_t keep, uint16_t owner,
                          uint16_t*& sig, uint32_t*& idx) noexcept {
  auto use = [&](Bucket& b, uint32_t s) {
    sig = &b.sig[s];
    idx = &b.idx[s];
    return true;
  };
  for (uint32_t b : {p.primary, p.secondary}) {
    const uint32_t m = slots_matching(buckets_[b].sig, 0);
    if (m != 0) return use(buckets_[b], first_slot(m));
  }
  // Both full: move one of their entries to its other bucket if that has
  // room (one cuckoo step; signatures alone say where).
  for (uint32_t b : {p.primary, p.secondary}) {
    Bucket& from = buckets_[b];
    for (uint32_t s = 0; s < kSlots; ++s) {
      Bucket& to = buckets_[other_bucket(b, from.sig[s])];
      const uint32_t m = slots_matching(to.sig, 0);
      if (m == 0) continue;
      to.sig[first_slot(m)] = from.sig[s];
      to.idx[first_slot(m)] = from.idx[s];
      from.sig[s] = 0;
      return use(from, s);
    }
  }
  // Still full: give up one of their 16 entries (conn_table.h, "Eviction"):
  // an expired one; else the victim owner's closing, embryonic, then (when
  // it is not `owner`) assured; else another owner's closing or embryonic;
  // the longest idle first within a rank.
  const uint16_t heavy = victim_owner(owner);
  constexpr uint32_t kNever = 7;
  auto rank_of = [&](const ConnEntry& e) -> uint32_t {
    if (is_expired(e, now)) return 0;
    const uint32_t cls = static_cast<uint32_t>(e.cls);
    if (e.owner == heavy) {
      if (e.cls != ConnClass::kAssured) return 1 + cls;
      return heavy != owner ? 3 : kNever;
    }
    return e.cls != ConnClass::kAssured ? 4 + cls : kNever;
  };
  uint32_t victim = kNone, rank = kNever;
  uint64_t idle_since = 0;
  Bucket* where = nullptr;
  uint32_t where_slot = 0;
  for (uint32_t b : {p.primary, p.secondary}) {
    Bucket& bucket = buckets_[b];
    for (uint32_t s = 0; s < kSlots; ++s) {
      const uint32_t owner_idx = bucket.idx[s] & ~kReplySlot;
      if (owner_idx == keep) continue;
      const ConnEntry& e = entries_[owner_idx];
      const uint32_t r = rank_of(e);
      if (r < rank || (r == rank && victim != kNone && e.last_seen < idle_since)) {
        victim = owner_idx;
        rank = r;
        idle_since = e.last_seen;
        where = &bucket;
        where_slot = s;
      }
    }
  }
  if (victim == kNone || rank == kNever) return false;
  if (rank == 0)
    stats_.expired.inc();
  else
    stats_.evicted[static_cast<size_t>(entries_[victim].cls)].inc();
  release(victim);
  // The victim's release emptied its slots, among them this one, unless
  // the victim was there by its other key: take whichever slot it freed.
  if (where->sig[where_slot] != 0) return take_slot(p, now, keep, owner, sig, idx);
  return use(*where, where_slot);
}

uint32_t ConnTable::take_entry(uint64_t now, uint16_t owner) noexcept {
  if (free_ == kNone) {
    const uint16_t heavy = victim_owner(owner);
    if (reclaim_expired(heavy, now) == 0) {
      uint32_t victim = list(heavy, ConnClass::kClosing).head;
      if (victim == kNone) {
        victim = list(heavy, ConnClass::kEmbryonic).head;
        // Rather than another port's half-open entry, a port with more of
        // them than that port churns its own (a SYN flood).
        if (victim != kNone && heavy != owner &&
            owned(owner, ConnClass::kEmbryonic) > owned(heavy, ConnClass::kEmbryonic))
          victim = list(owner, ConnClass::kEmbryonic).head;
      }
      if (victim == kNone && heavy != owner) victim = list(heavy, ConnClass::kAssured).head;
      if (victim == kNone) return kNone;
      stats_.evicted[static_cast<size_t>(entries_[victim].cls)].inc();
      release(victim);
    }
  }
  const uint32_t idx = free_;
  free_ = entries_[idx].next;
  return idx;
}

uint32_t ConnTable::insert(const ConnKey& key, ConnState state, uint8_t orig_side, uint64_t now,
                           uint16_t owner) noexcept {
  if (owner >= kConnOwners) owner = kConnOwners - 1;
  const Place p = place(conn_hash(key));
  uint16_t* sig_slot;
  uint32_t* idx_slot;
  uint32_t idx;
  if (!take_slot(p, now, kNone, owner, sig_slot, idx_slot) ||
      (idx = take_entry(now, owner)) == kNone) {
    stats_.full.inc();
    return kNone;
  }
  ConnEntry& e = entries_[idx];
  e = ConnEntry{};
  e.key = key;
  e.last_seen = now;
  e.state = state;
  e.flags = orig_side ? kConnOrigSide : 0;
  if (state >= ConnState::kTcpEstablished && state <= ConnState::kTcpLastAck) e.flags |= kConnPickup;
  e.owner = owner;
  append(idx, class_of(e));
  *sig_slot = p.sig;
  *idx_slot = idx;
  stats_.created.inc();
  return idx;
}

bool ConnTable::translate(uint32_t idx, const ConnXlate& x, uint64_t now) noexcept {
  const Place p = place(conn_hash(x.reply_key));
  if (find(x.reply_key, p) != kNone) {
    stats_.xlate_clash.inc();
    return false;
  }
  uint16_t* sig_slot;
  uint32_t* idx_slot;
  if (!take_slot(p, now, idx, entries_[idx].owner, sig_slot, idx_slot)) {
    stats_.full.inc();
    return false;
  }
  xlates_[idx] = x;
  entries_[idx].flags |= kConnXlate;
  *sig_slot = p.sig;
  *idx_slot = idx | kReplySlot;
  stats_.translated.inc();
  return true;
}

void ConnTable::remove(uint32_t idx) noexcept {
  release(idx);
  stats_.removed.inc();
}

void ConnTable::clear_slot(const Place& p, uint32_t slot) noexcept {
  for (uint32_t b : {p.primary, p.secondary}) {
    Bucket& bucket = buckets_[b];
    for (uint32_t m = slots_matching(bucket.sig, p.sig); m != 0; m = next_match(m)) {
      if (bucket.idx[first_slot(m)] == slot) {
        bucket.sig[first_slot(m)] = 0;
        return;
      }
    }
  }
}

void ConnTable::release(uint32_t idx) noexcept {
  ConnEntry& e = entries_[idx];
  clear_slot(place(conn_hash(e.key)), idx);
  if (e.flags & kConnXlate) clear_slot(place(conn_hash(xlates_[idx].reply_key)), idx | kReplySlot);
  unlink(idx);
  e.state = ConnState::kFree;
  e.next = free_;
  free_ = idx;
}

void ConnTable::cut(uint32_t idx, uint32_t generation, uint64_t now) noexcept {
  ConnEntry& e = entries_[idx];
  e.flags |= kConnCut;
  e.generation = generation;
  e.action[0] = e.action[1] = FlowAction{};
  touch(idx, now);
  stats_.cut.inc();
}

void ConnTable::uncut(uint32_t idx, uint64_t now) noexcept {
  entries_[idx].flags &= static_cast<uint8_t>(~kConnCut);
  touch(idx, now);
}

void ConnTable::touch(uint32_t idx, uint64_t now) noexcept {
  ConnEntry& e = entries_[idx];
  e.last_seen = now;
  const ConnClass c = class_of(e);
  if (c != e.cls) {
    unlink(idx);
    append(idx, c);
  }
}

uint32_t ConnTable::expire(uint64_t now, uint32_t budget) noexcept {
  uint32_t removed = 0;
  for (uint32_t k = 0; k < budget && k < capacity_; ++k) {
    const uint32_t idx = sweep_;
    sweep_ = idx + 1 == capacity_ ? 0 : idx + 1;
    const ConnEntry& e = entries_[idx];
    if (e.state != ConnState::kFree && is_expired(e, now)) {
      release(idx);
      stats_.expired.inc();
      ++removed;
    }
  }
  // The sweep walks the whole entry array, far more than any cache holds,
  // so each entry it reads is a miss (nearly all of expire()'s time with
  // 2M entries): fetch the ones the next call reads now, and they arrive
  // while the rest of this burst is processed.
  for (uint32_t k = 0, idx = sweep_; k < budget && k < capacity_; ++k) {
    rte_prefetch0(&entries_[idx]);
    idx = idx + 1 == capacity_ ? 0 : idx + 1;
  }
  return removed;
}

void ConnTable::unlink(uint32_t idx) noexcept {
  ConnEntry& e = entries_[idx];
  const size_t c = static_cast<size_t>(e.cls);
  List& l = lists_[e.owner][c];
  --owner_count_[e.owner][c];
  if (e.prev != kNone)
    entries_[e.prev].next = e.next;
  else
    l.head = e.next;
  if (e.next != kNone)
    entries_[e.next].prev = e.prev;
  else
    l.tail = e.prev;
  count_[c].store(count_[c].load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void ConnTable::append(uint32_t idx, ConnClass cls) noexcept {
  ConnEntry& e = entries_[idx];
  const size_t c = static_cast<size_t>(cls);
  List& l = lists_[e.owner][c];
  ++owner_count_[e.owner][c];
  e.cls = cls;
  e.next = kNone;
  e.prev = l.tail;
  if (l.tail != kNone)
    entries_[l.tail].next = idx;
  else
    l.head = idx;
  l.tail = idx;
  count_[c].store(count_[c].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace weft::dp
