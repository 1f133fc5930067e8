// The connection table (dataplane/conntrack/conn_table.h) on the heap, with
// a fake clock: both directions find one entry, bulk lookups agree with a
// reference map under random churn, entries expire by state, and a full
// table gives up closing, then embryonic entries, oldest first, and an
// assured one only from the port that holds the most (issue 17), reclaims
// expired entries wherever they sit, and a SYN flood churns its own.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdio>
#include <map>
#include <random>
#include <vector>

#include "dataplane/conntrack/conn_state.h"
#include "dataplane/conntrack/conn_table.h"

namespace weft::dp {
namespace {

constexpr uint64_t kHz = 1000;  // fake TSC: one tick per millisecond
constexpr uint64_t kSecond = kHz;
constexpr uint32_t kVni = 5001;

std::unique_ptr<ConnTable> make_table(uint32_t max_entries, ConnTimeouts timeouts = {}) {
  ConnTableConfig cfg;
  cfg.max_entries = max_entries;
  cfg.timeouts = timeouts;
  cfg.tsc_hz = kHz;
  cfg.memory = TableMemory::kHeap;
  std::string error;
  auto t = ConnTable::create(cfg, error);
  EXPECT_TRUE(t) << error;
  return t;
}

// Connection n: 10.0.x.y:(1024 + n % 50000) -> 10.1.0.1:80.
ConnKey key(uint32_t n, uint8_t proto = IPPROTO_TCP, uint8_t* side = nullptr) {
  uint8_t s;
  return make_conn_key(kVni, proto, htonl(0x0a000000u + n / 50000), htons(1024 + n % 50000),
                       htonl(0x0a010001u), htons(80), side ? *side : s);
}

// Opens connection n as its first packet would, from the client's side.
uint32_t open(ConnTable& t, uint32_t n, ConnState state, uint64_t now) {
  uint8_t side;
  const ConnKey k = key(n, IPPROTO_TCP, &side);
  return t.insert(k, state, side, now);
}

// Opens connection n charged to port `owner`.
uint32_t open_as(ConnTable& t, uint32_t n, ConnState state, uint64_t now, uint16_t owner,
                 uint8_t proto = IPPROTO_TCP) {
  uint8_t side;
  const ConnKey k = key(n, proto, &side);
  return t.insert(k, state, side, now, owner);
}

// Moves an entry to ESTABLISHED with its reply seen (assured).
void establish(ConnTable& t, uint32_t idx, uint64_t now) {
  ConnEntry& e = t.entry(idx);
  e.state = ConnState::kTcpEstablished;
  e.flags |= kConnReplySeen;
  t.touch(idx, now);
}

TEST(ConnTable, BothDirectionsFindOneEntry) {
  auto t = make_table(1024);
  uint8_t fwd_side, rev_side;
  const uint32_t a = htonl(0x0a01010a), b = htonl(0x0a010214);
  const ConnKey fwd = make_conn_key(kVni, IPPROTO_TCP, a, htons(40000), b, htons(5432), fwd_side);
  const ConnKey rev = make_conn_key(kVni, IPPROTO_TCP, b, htons(5432), a, htons(40000), rev_side);
  EXPECT_EQ(fwd, rev);
  EXPECT_NE(fwd_side, rev_side);

  const uint32_t idx = t->insert(fwd, ConnState::kTcpSynSent, fwd_side, 0);
  ASSERT_NE(idx, ConnTable::kNone);
  EXPECT_EQ(t->lookup(rev, 1), idx);
  const ConnEntry& e = t->entry(idx);
  EXPECT_EQ(e.dir_of(fwd_side), ConnDir::kOriginal);
  EXPECT_EQ(e.dir_of(rev_side), ConnDir::kReply);
  EXPECT_FALSE(e.act(ConnDir::kOriginal).recorded());
  EXPECT_EQ(e.generation, 0u);

  // Another zone, or another protocol, is another connection.
  uint8_t side;
  EXPECT_EQ(
      t->lookup(make_conn_key(kVni + 1, IPPROTO_TCP, a, htons(40000), b, htons(5432), side), 1),
      ConnTable::kNone);
  EXPECT_EQ(t->lookup(make_conn_key(kVni, IPPROTO_UDP, a, htons(40000), b, htons(5432), side), 1),
            ConnTable::kNone);
  EXPECT_EQ(t->size(), 1u);
  EXPECT_EQ(t->size(ConnClass::kEmbryonic), 1u);
}

TEST(ConnTable, BulkLookupAgreesWithAReferenceUnderChurn) {
  constexpr uint32_t kMax = 4096;
  auto t = make_table(kMax);
  std::map<uint32_t, uint32_t> ref;  // connection number -> entry index
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> conn(0, 3 * kMax);
  for (int round = 0; round < 400; ++round) {
    // Insert or remove a few connections...
    for (int k = 0; k < 16; ++k) {
      const uint32_t n = conn(rng);
      auto it = ref.find(n);
      if (it != ref.end()) {
        t->remove(it->second);
        ref.erase(it);
      } else if (ref.size() < kMax) {
        const uint32_t idx = open(*t, n, ConnState::kTcpSynSent, 0);
        ASSERT_NE(idx, ConnTable::kNone) << "room left but no insert, " << ref.size() << " in use";
        establish(*t, idx, 0);  // assured: never evicted behind the reference's back
        ref[n] = idx;
      }
    }
    // ...then look a burst up, hits and misses mixed.
    ConnKey keys[ConnTable::kMaxBulk];
    uint32_t nums[ConnTable::kMaxBulk], out[ConnTable::kMaxBulk];
    for (uint32_t i = 0; i < ConnTable::kMaxBulk; ++i) {
      nums[i] = i % 2 == 0 && !ref.empty() ? std::next(ref.begin(), conn(rng) % ref.size())->first
                                           : conn(rng);
      keys[i] = key(nums[i]);
    }
    t->lookup_bulk(keys, ConnTable::kMaxBulk, 0, out);
    for (uint32_t i = 0; i < ConnTable::kMaxBulk; ++i) {
      auto it = ref.find(nums[i]);
      ASSERT_EQ(out[i], it == ref.end() ? ConnTable::kNone : it->second)
          << "connection " << nums[i];
    }
  }
  EXPECT_EQ(t->size(), ref.size());
}

TEST(ConnTable, FillsToCapacity) {
  // Buckets hold at most half their slots at capacity: every insert finds
  // a slot in one of its two buckets, and the table takes all it was sized
  // for.
  constexpr uint32_t kMax = 100000;
  auto t = make_table(kMax);
  for (uint32_t n = 0; n < kMax; ++n) {
    const uint32_t idx = open(*t, n, ConnState::kTcpSynSent, 0);
    ASSERT_NE(idx, ConnTable::kNone) << n;
    establish(*t, idx, 0);
  }
  EXPECT_EQ(t->size(), kMax);
  EXPECT_EQ(t->stats().evicted[static_cast<size_t>(ConnClass::kEmbryonic)].get(), 0u);
  // Full of assured connections: the next one is refused, not made room for.
  EXPECT_EQ(open(*t, kMax, ConnState::kTcpSynSent, 0), ConnTable::kNone);
  EXPECT_EQ(t->stats().full.get(), 1u);
  std::printf("conntrack: %zu bytes per entry (%u entries, %zu bytes)\n",
              ConnTable::bytes_per_entry(kMax), kMax, t->memory_bytes());
}

TEST(ConnTable, EntriesExpireByState) {
  ConnTimeouts to;
  to.tcp_syn_sent = 30;
  to.tcp_established = 3600;
  auto t = make_table(64, to);
  const uint32_t syn = open(*t, 1, ConnState::kTcpSynSent, 0);
  const uint32_t est = open(*t, 2, ConnState::kTcpSynSent, 0);
  establish(*t, est, 0);

  EXPECT_EQ(t->lookup(key(1), 30 * kSecond), syn);  // not past the timeout yet
  t->touch(syn, 30 * kSecond);                      // a packet: idle again from here
  EXPECT_EQ(t->lookup(key(1), 60 * kSecond), syn);
  EXPECT_EQ(t->lookup(key(1), 60 * kSecond + 1), ConnTable::kNone);  // expired: removed
  EXPECT_EQ(t->stats().expired.get(), 1u);
  EXPECT_EQ(t->lookup(key(2), 3600 * kSecond), est);
  EXPECT_EQ(t->size(), 1u);

  // The sweep finds what no lookup asks for.
  EXPECT_EQ(t->expire(3600 * kSecond + 1, 64), 1u);
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(t->stats().expired.get(), 2u);
}

TEST(ConnTable, SweepWalksInSmallSteps) {
  ConnTimeouts to;
  to.udp_unreplied = 1;
  auto t = make_table(256, to);
  for (uint32_t n = 0; n < 256; ++n) {
    uint8_t side;
    const ConnKey k = key(n, IPPROTO_UDP, &side);
    ASSERT_NE(t->insert(k, ConnState::kUdpUnreplied, side, 0), ConnTable::kNone);
  }
  uint32_t removed = 0, calls = 0;
  while (t->size() > 0 && calls < 1000) {
    removed += t->expire(10 * kSecond, 16);
    ++calls;
  }
  EXPECT_EQ(removed, 256u);
  EXPECT_EQ(calls, 16u);  // 256 entries, 16 at a time
}

TEST(ConnTable, FullTableGivesUpClosingThenEmbryonicOldestFirst) {
  auto t = make_table(4);
  const uint32_t assured = open(*t, 0, ConnState::kTcpSynSent, 0);
  establish(*t, assured, 0);
  const uint32_t embryonic_old = open(*t, 1, ConnState::kTcpSynSent, 1);
  const uint32_t embryonic_new = open(*t, 2, ConnState::kTcpSynSent, 2);
  const uint32_t closing = open(*t, 3, ConnState::kTcpSynSent, 3);
  t->entry(closing).state = ConnState::kTcpTimeWait;
  t->touch(closing, 3);
  ASSERT_EQ(t->size(), 4u);

  // First the closing connection goes, then the older embryonic one.
  const uint32_t a = open(*t, 10, ConnState::kTcpSynSent, 10);
  EXPECT_NE(a, ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(3), 10), ConnTable::kNone);
  EXPECT_EQ(t->stats().evicted[static_cast<size_t>(ConnClass::kClosing)].get(), 1u);
  const uint32_t b = open(*t, 11, ConnState::kTcpSynSent, 11);
  EXPECT_NE(b, ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(1), 11), ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(2), 11), embryonic_new);
  EXPECT_EQ(t->lookup(key(0), 11), assured);
  EXPECT_EQ(t->stats().evicted[static_cast<size_t>(ConnClass::kEmbryonic)].get(), 1u);
  (void)embryonic_old;
}

TEST(ConnTable, ACutConnectionIsATombstoneEvictedFirst) {
  auto t = make_table(2);
  const uint32_t cut = open(*t, 0, ConnState::kTcpSynSent, 0);
  establish(*t, cut, 0);
  const uint32_t kept = open(*t, 1, ConnState::kTcpSynSent, 1);
  establish(*t, kept, 1);
  ASSERT_EQ(t->size(ConnClass::kAssured), 2u);

  t->cut(cut, 7, 2);
  const ConnEntry& e = t->entry(cut);
  EXPECT_TRUE(e.flags & kConnCut);
  EXPECT_EQ(e.generation, 7u);
  EXPECT_EQ(e.state, ConnState::kTcpEstablished);  // its state, and so its timeout, stay
  EXPECT_EQ(t->size(ConnClass::kClosing), 1u);
  EXPECT_EQ(t->stats().cut.get(), 1u);
  t->uncut(cut, 3);
  EXPECT_FALSE(t->entry(cut).flags & kConnCut);
  EXPECT_EQ(t->size(ConnClass::kAssured), 2u);

  // Cut again, it is what a full table gives up for a new connection.
  t->cut(cut, 8, 4);
  EXPECT_NE(open(*t, 2, ConnState::kTcpSynSent, 5), ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(0), 5), ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(1), 5), kept);
}

TEST(ConnTable, SynFloodLeavesEstablishedConnections) {
  constexpr uint32_t kMax = 1024;
  constexpr uint32_t kEstablished = 300;
  auto t = make_table(kMax);
  for (uint32_t n = 0; n < kEstablished; ++n)
    establish(*t, open(*t, n, ConnState::kTcpSynSent, 0), 0);

  // A flood of SYNs from ever new ports: a hundred times the table.
  uint64_t now = 0;
  uint32_t refused = 0;
  for (uint32_t n = 1000000; n < 1000000 + 100 * kMax; ++n) {
    now += 1;  // one SYN per millisecond of fake time: nothing expires
    if (open(*t, n, ConnState::kTcpSynSent, now) == ConnTable::kNone) ++refused;
  }
  EXPECT_EQ(refused, 0u);  // the flood churns its own embryonic entries
  EXPECT_EQ(t->size(), kMax);
  EXPECT_EQ(t->size(ConnClass::kAssured), kEstablished);
  EXPECT_EQ(t->stats().evicted[static_cast<size_t>(ConnClass::kAssured)].get(), 0u);
  for (uint32_t n = 0; n < kEstablished; ++n)
    ASSERT_NE(t->lookup(key(n), now), ConnTable::kNone)
        << "established connection " << n << " lost";
  // The survivors of the flood are its newest SYNs.
  const uint32_t last = 1000000 + 100 * kMax - 1;
  EXPECT_NE(t->lookup(key(last), now), ConnTable::kNone);
  EXPECT_EQ(t->lookup(key(1000000), now), ConnTable::kNone);
}

TEST(ConnTable, ExpiredAssuredEntryMakesRoomWhenFull) {
  auto t = make_table(2);
  establish(*t, open(*t, 0, ConnState::kTcpSynSent, 0), 0);
  establish(*t, open(*t, 1, ConnState::kTcpSynSent, 0), 0);
  EXPECT_EQ(open(*t, 2, ConnState::kTcpSynSent, 1), ConnTable::kNone);
  // A day and a bit later, the oldest assured entry has expired unseen.
  const uint64_t later = (24 * 3600 + 1) * kSecond;
  EXPECT_NE(open(*t, 2, ConnState::kTcpSynSent, later), ConnTable::kNone);
  EXPECT_EQ(t->stats().expired.get(), 2u);  // both: the full table's sweep step finds both
}

// Issue 17: a TCP connection picked up mid-stream by a bare ACK, answered
// by one bare ACK, is neither assured nor given a day: it stays embryonic
// on the short timeout until its originator sends again.
TEST(ConnTable, PickedUpConnectionStaysShortLivedUntilBothSidesSpeak) {
  auto t = make_table(16);
  uint8_t side;
  const ConnKey k = key(0, IPPROTO_TCP, &side);
  const uint32_t idx = t->insert(k, ConnState::kTcpEstablished, side, 0);
  ASSERT_NE(idx, ConnTable::kNone);
  PacketTuple ack{};
  ack.tcp_flags = kTcpAck;
  ASSERT_EQ(track(t->entry(idx), ConnDir::kReply, ack), TrackResult::kOk);
  t->touch(idx, 1);
  EXPECT_EQ(t->entry(idx).cls, ConnClass::kEmbryonic);
  EXPECT_EQ(t->size(ConnClass::kAssured), 0u);
  // Idle past tcp_unreplied (30 s): gone.
  EXPECT_EQ(t->lookup(k, 32 * kSecond), ConnTable::kNone);

  // The same again, and then the originator speaks after the answer: now
  // it is an established connection like any other.
  const uint32_t again = t->insert(k, ConnState::kTcpEstablished, side, 40 * kSecond);
  ASSERT_NE(again, ConnTable::kNone);
  ASSERT_EQ(track(t->entry(again), ConnDir::kReply, ack), TrackResult::kOk);
  t->touch(again, 41 * kSecond);
  ASSERT_EQ(track(t->entry(again), ConnDir::kOriginal, ack), TrackResult::kOk);
  t->touch(again, 42 * kSecond);
  EXPECT_EQ(t->entry(again).cls, ConnClass::kAssured);
  EXPECT_EQ(t->lookup(k, 3600 * kSecond), again);
}

// Issue 17: expired entries behind a live one at the head of its list are
// reclaimed by a full table's insert, not left unusable until the sweep
// comes round.
TEST(ConnTable, ExpiredEntriesBehindALiveHeadAreReclaimed) {
  auto t = make_table(8);
  establish(*t, open(*t, 0, ConnState::kTcpSynSent, 0), 0);  // lives a day
  for (uint32_t n = 1; n < 8; ++n) {
    const uint32_t idx = open_as(*t, n, ConnState::kUdpUnreplied, 0, 0, IPPROTO_UDP);
    ASSERT_NE(idx, ConnTable::kNone);
    t->entry(idx).state = ConnState::kUdpReplied;
    t->entry(idx).flags |= kConnReplySeen;
    t->touch(idx, 0);
  }
  ASSERT_EQ(t->size(ConnClass::kAssured), 8u);
  // 200 s later the UDP entries (180 s) have expired; the TCP one has not.
  const uint64_t later = 200 * kSecond;
  for (uint32_t n = 100; n < 107; ++n)
    EXPECT_NE(open(*t, n, ConnState::kTcpSynSent, later), ConnTable::kNone) << n;
  EXPECT_EQ(t->lookup(key(0), later), 0u);
}

// Issue 17: two ports of one tenant fill the table with established
// connections; a third port's new connection still gets an entry, taken
// from the heaviest of them. The heaviest port itself is refused rather
// than evicting its own established connections.
TEST(ConnTable, AFullTableMakesRoomFromTheHeaviestPort) {
  constexpr uint32_t kMax = 64;
  auto t = make_table(kMax);
  for (uint32_t n = 0; n < kMax; ++n) {
    const uint16_t port = n < 40 ? 1 : 2;
    const uint32_t idx = open_as(*t, n, ConnState::kTcpSynSent, 0, port);
    ASSERT_NE(idx, ConnTable::kNone);
    establish(*t, idx, 0);
  }
  EXPECT_EQ(t->owned(1), 40u);
  EXPECT_EQ(t->owned(2), 24u);
  // Port 1 holds the most and only assured entries: its own SYN is refused.
  EXPECT_EQ(open_as(*t, 500, ConnState::kTcpSynSent, 1, 1),
            ConnTable::kNone);
  // Another tenant's port 3: room, from port 1's oldest connection.
  for (uint32_t n = 1000; n < 1010; ++n)
    ASSERT_NE(open_as(*t, n, ConnState::kTcpSynSent, 2, 3),
              ConnTable::kNone)
        << n;
  EXPECT_EQ(t->owned(3), 10u);
  EXPECT_EQ(t->owned(1), 30u);
  EXPECT_EQ(t->owned(2), 24u);
  EXPECT_EQ(t->lookup(key(0), 2), ConnTable::kNone);  // port 1's oldest
  EXPECT_NE(t->lookup(key(39), 2), ConnTable::kNone);
  EXPECT_EQ(t->stats().evicted[static_cast<size_t>(ConnClass::kAssured)].get(), 10u);
}

// Issue 17: a SYN flood from one port does not evict another port's
// half-open handshake before its own, even while that port holds more of
// the table.
TEST(ConnTable, ASynFloodChurnsItsOwnHalfOpenEntriesFirst) {
  constexpr uint32_t kMax = 64;
  auto t = make_table(kMax);
  // Port 5: a handshake in progress, the oldest embryonic entry, and 40
  // established connections.
  const uint32_t handshake =
      open_as(*t, 0, ConnState::kTcpSynSent, 0, 5);
  ASSERT_NE(handshake, ConnTable::kNone);
  for (uint32_t n = 1; n <= 40; ++n)
    establish(*t, open_as(*t, n, ConnState::kTcpSynSent, 0, 5), 0);
  // Port 1 floods SYNs: ten times the table.
  uint64_t now = 0;
  uint32_t refused = 0;
  for (uint32_t n = 1000000; n < 1000000 + 10 * kMax; ++n) {
    now += 1;
    if (open_as(*t, n, ConnState::kTcpSynSent, now, 1) ==
        ConnTable::kNone)
      ++refused;
  }
  EXPECT_EQ(refused, 0u);
  EXPECT_EQ(t->lookup(key(0), now), handshake);
  EXPECT_EQ(t->owned(5), 41u);
  EXPECT_EQ(t->owned(1), kMax - 41);
}

TEST(ConnTable, RejectsBadConfig) {
  std::string error;
  ConnTableConfig cfg;
  cfg.memory = TableMemory::kHeap;
  cfg.tsc_hz = kHz;
  cfg.max_entries = 0;
  EXPECT_FALSE(ConnTable::create(cfg, error));
  EXPECT_NE(error.find("max_entries"), std::string::npos) << error;
  cfg.max_entries = 16;
  cfg.tsc_hz = 0;
  EXPECT_FALSE(ConnTable::create(cfg, error));
  EXPECT_NE(error.find("tsc_hz"), std::string::npos) << error;
}

}  // namespace
}  // namespace weft::dp

// --- translated connections ----------------------------------------------------

namespace weft::dp {
namespace {

// A client's connection to a VIP, given to a backend (DNAT): the client's
// packets carry client -> VIP, the backend's replies backend -> client.
struct Dnat {
  rte_be32_t client = htonl(0x0a000105), vip = htonl(0x0a000164), backend = htonl(0x0a000207);
  rte_be16_t cport = htons(40000), vport = htons(80), bport = htons(8080);
};

TEST(ConnTable, ATranslatedConnectionIsFoundByItsReplyTuple) {
  auto t = make_table(1024);
  const Dnat d;
  uint8_t orig_side, reply_side;
  const ConnKey orig = make_conn_key(kVni, IPPROTO_TCP, d.client, d.cport, d.vip, d.vport, orig_side);
  const ConnKey reply = make_conn_key(kVni, IPPROTO_TCP, d.backend, d.bport, d.client, d.cport, reply_side);
  const uint32_t idx = t->insert(orig, ConnState::kTcpSynSent, orig_side, 0);
  ASSERT_NE(idx, ConnTable::kNone);
  EXPECT_EQ(t->lookup(reply, 0), ConnTable::kNone) << "before the translation, the reply tuple is no one's";

  ConnXlate x{};
  x.reply_key = reply;
  x.reply_side = reply_side;
  x.src = d.client;
  x.sport = d.cport;
  x.dst = d.backend;
  x.dport = d.bport;
  ASSERT_TRUE(t->translate(idx, x, 0));

  bool via_reply = false;
  EXPECT_EQ(t->lookup(orig, 0, &via_reply), idx);
  EXPECT_FALSE(via_reply);
  ASSERT_EQ(t->lookup(reply, 0, &via_reply), idx) << "the backend's reply finds the client's connection";
  EXPECT_TRUE(via_reply);
  ConnDir dir;
  ASSERT_TRUE(t->direction(idx, true, reply_side, dir));
  EXPECT_EQ(dir, ConnDir::kReply);
  EXPECT_FALSE(t->direction(idx, true, 1 - reply_side, dir))
      << "the translated tuple sent the other way is a clash, not this connection";
  ASSERT_TRUE(t->direction(idx, false, orig_side, dir));
  EXPECT_EQ(dir, ConnDir::kOriginal);

  // Bulk lookups of both keys, in one burst, agree.
  const ConnKey both[2] = {reply, orig};
  uint32_t out[2];
  bool vr[2];
  t->lookup_bulk(both, 2, 0, out, vr);
  EXPECT_EQ(out[0], idx);
  EXPECT_TRUE(vr[0]);
  EXPECT_EQ(out[1], idx);
  EXPECT_FALSE(vr[1]);
  EXPECT_EQ(t->stats().translated.get(), 1u);

  // The binding outlives a new decision: cut and allowed again, it stays.
  t->cut(idx, 2, 0);
  t->uncut(idx, 0);
  EXPECT_EQ(t->lookup(reply, 0), idx);
  EXPECT_EQ(t->xlate(idx).dst, d.backend);

  // Removed, both keys go.
  t->remove(idx);
  EXPECT_EQ(t->lookup(orig, 0), ConnTable::kNone);
  EXPECT_EQ(t->lookup(reply, 0), ConnTable::kNone);
}

TEST(ConnTable, ATranslationWhoseReplyTupleIsTakenIsRefused) {
  auto t = make_table(1024);
  const Dnat d;
  uint8_t side, reply_side;
  // Someone already talks backend:8080 <-> client:40000 directly.
  const ConnKey direct = make_conn_key(kVni, IPPROTO_TCP, d.client, d.cport, d.backend, d.bport, side);
  const uint32_t other = t->insert(direct, ConnState::kTcpEstablished, side, 0);
  ASSERT_NE(other, ConnTable::kNone);
  const ConnKey orig = make_conn_key(kVni, IPPROTO_TCP, d.client, d.cport, d.vip, d.vport, side);
  const uint32_t idx = t->insert(orig, ConnState::kTcpSynSent, side, 0);
  ConnXlate x{};
  x.reply_key = make_conn_key(kVni, IPPROTO_TCP, d.backend, d.bport, d.client, d.cport, reply_side);
  x.reply_side = reply_side;
  EXPECT_FALSE(t->translate(idx, x, 0));
  EXPECT_FALSE(t->entry(idx).flags & kConnXlate);
  EXPECT_EQ(t->lookup(direct, 0), other) << "the other connection keeps its tuple";
  EXPECT_EQ(t->stats().xlate_clash.get(), 1u);
}

TEST(ConnTable, TranslatedConnectionsExpireAndAreEvictedWithBothKeys) {
  auto t = make_table(64);
  // Fill the table with translated embryonic connections, then keep
  // inserting: every eviction must take both of the victim's keys, so the
  // buckets never hold a key whose entry has moved on.
  for (uint32_t n = 0; n < 2000; ++n) {
    uint8_t side, reply_side;
    const ConnKey k = key(n, IPPROTO_TCP, &side);
    const uint32_t idx = t->insert(k, ConnState::kTcpSynSent, side, n);
    if (idx == ConnTable::kNone) continue;
    ConnXlate x{};
    x.reply_key = make_conn_key(kVni, IPPROTO_TCP, htonl(0x0b000000u + n), htons(8080),
                                k.addr[side], k.port[side], reply_side);
    x.reply_side = reply_side;
    if (!t->translate(idx, x, n)) continue;
    // Every live entry is still found by both of its keys, nothing else.
    if (n % 97 == 0) {
      for (uint32_t i = 0; i < t->capacity(); ++i) {
        const ConnEntry& e = t->entry(i);
        if (e.state == ConnState::kFree) continue;
        EXPECT_EQ(t->lookup(e.key, n), i);
        if (e.flags & kConnXlate) {
          EXPECT_EQ(t->lookup(t->xlate(i).reply_key, n), i);
        }
      }
    }
  }
  EXPECT_LE(t->size(), t->capacity());
}

}  // namespace
}  // namespace weft::dp
