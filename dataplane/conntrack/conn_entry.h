#pragma once
// One tracked connection: its key, its protocol state, and the flow cache's
// recorded result for each direction. One cache line: a hit in the flow
// cache reads the bucket and this line, nothing else.
//
//   byte  0  key (16)          zone, canonical endpoints
//        16  last_seen (8)     TSC of the latest packet, either direction
//        24  prev, next (8)    the entry's eviction list (free list when free)
//        32  generation (4)    snapshot the verdict and actions were decided with
//        36  state, flags, cls, pad
//        40  action[2] (20)    by direction: original, reply
//        60  owner (2)         the local port the connection is charged to
//        62  spare (2)
//
// Owned by a ConnTable (conn_table.h): one worker reads and writes it.

#include <rte_byteorder.h>
#include <rte_config.h>

#include <cstdint>

#include "dataplane/conntrack/conn_key.h"
#include "dataplane/conntrack/flow_action.h"

namespace weft::dp {

// The direction of a packet within its connection.
enum class ConnDir : uint8_t { kOriginal = 0, kReply = 1 };

enum class ConnState : uint8_t {
  kFree = 0,
  // TCP, as Linux and OVS name them. FIN_WAIT: one side has sent FIN;
  // CLOSE_WAIT: the other side has acknowledged it; LAST_ACK: both have
  // sent FIN; TIME_WAIT: the first closer has acknowledged the second FIN.
  kTcpSynSent,
  kTcpSynRecv,
  kTcpEstablished,
  kTcpFinWait,
  kTcpCloseWait,
  kTcpLastAck,
  kTcpTimeWait,
  kTcpClose,  // reset
  // Pseudo-connections: seen one way, or both.
  kUdpUnreplied,
  kUdpReplied,
  kIcmpUnreplied,  // ICMP echo
  kIcmpReplied,
  kOtherUnreplied,  // any other IP protocol
  kOtherReplied,
  kCount
};
inline constexpr size_t kConnStateCount = static_cast<size_t>(ConnState::kCount);

// Eviction classes, in the order a full table gives entries up: closed
// connections first, then embryonic ones (never answered, or a handshake
// not yet complete); assured connections never.
enum class ConnClass : uint8_t { kClosing = 0, kEmbryonic, kAssured, kCount };
inline constexpr size_t kConnClassCount = static_cast<size_t>(ConnClass::kCount);

inline constexpr uint8_t kConnOrigSide = 1 << 0;     // the originator is key side 1
inline constexpr uint8_t kConnReplySeen = 1 << 1;    // a packet has gone the reply way
inline constexpr uint8_t kConnCloserReply = 1 << 2;  // TCP: the reply side sent the first FIN
// Cut: the security groups of snapshot `generation` denied this connection.
// The entry stays, a tombstone that remembers who opened the connection:
// its packets drop both ways until a newer snapshot allows it again.
// Removing it instead would let the next segment of the side that may
// still send (say, a server with open egress) be picked up as a connection
// of its own, and the other side's packets pass as its replies.
inline constexpr uint8_t kConnCut = 1 << 3;
// Translated (NAT, a load balancer's backend): the connection has a second
// key, its reply tuple, and its translation (ConnXlate, in the table's side
// array at the same index).
inline constexpr uint8_t kConnXlate = 1 << 4;
// TCP picked up mid-stream (opened by an ACK or FIN, not a SYN): no
// handshake was seen, so nothing shows that the two ends know of each
// other. It stays embryonic, on the short tcp_unreplied timeout, until the
// originator has sent again after the other side answered (original,
// reply, original): then the flag goes and the connection is what its
// state says. Two bare ACKs, one each way, do not make an assured entry.
inline constexpr uint8_t kConnPickup = 1 << 5;

// Owners (ConnEntry::owner): the local DPDK port a connection is charged
// to, for the table's fair share (conn_table.h, "Eviction").
inline constexpr uint16_t kConnOwners = RTE_MAX_ETHPORTS;

struct alignas(64) ConnEntry {
  ConnKey key;
  uint64_t last_seen;
  uint32_t prev, next;
  uint32_t generation;
  ConnState state;
  uint8_t flags;
  ConnClass cls;
  uint8_t pad_;
  FlowAction action[2];
  uint16_t owner;  // < kConnOwners
  uint8_t spare_[2];

  uint8_t orig_side() const { return flags & kConnOrigSide; }
  bool reply_seen() const { return flags & kConnReplySeen; }
  // Replied, and not a picked-up connection still proving itself: the
  // long timeouts of the replied states apply.
  bool answered() const { return (flags & (kConnReplySeen | kConnPickup)) == kConnReplySeen; }
  // The direction of a packet whose source is on key side `src_side`.
  ConnDir dir_of(uint8_t src_side) const {
    return src_side == orig_side() ? ConnDir::kOriginal : ConnDir::kReply;
  }
  FlowAction& act(ConnDir d) { return action[static_cast<size_t>(d)]; }
  const FlowAction& act(ConnDir d) const { return action[static_cast<size_t>(d)]; }
};
static_assert(sizeof(ConnEntry) == 64, "a connection is one cache line");

// What a translated connection's packets are rewritten to, and the key its
// replies are found by. The original direction leaves with (src, sport) ->
// (dst, dport) written into its headers; a reply arrives from (dst, dport)
// to (src, sport) and leaves with the addresses the original direction
// had before translation, so the originator sees the peer it addressed.
//
// Binding state: chosen once, when the connection is made, and kept for
// its lifetime whatever later snapshots decide about its path.
struct ConnXlate {
  ConnKey reply_key;     // what the replies' tuple builds (its zone included)
  rte_be32_t src, dst;   // the original direction, after translation
  rte_be16_t sport, dport;
  uint8_t reply_side;    // key side of reply_key that replies come from
  uint8_t pad_[3];
};
static_assert(sizeof(ConnXlate) == 32);

}  // namespace weft::dp
