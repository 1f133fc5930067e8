#pragma once
// Protocol state of tracked connections: which packet may open one, how each
// packet moves it on, which eviction class it is in, and how long it lives
// idle in each state.
//
//   auto s = open_state(proto, tuple);        // nullopt: may not open one
//   TrackResult r = track(entry, dir, tuple); // every later packet
//
// TCP is followed without sequence numbers ("window-less"): the checks are
// on which side sends which flags. A SYN-ACK must come from the responder,
// the ACK completing the handshake from the originator; flag combinations
// no TCP segment carries (SYN+FIN, none at all, FIN without ACK, as Linux's
// tcp_valid_flags) are invalid everywhere. A connection may be picked up
// mid-stream (an ACK with no entry, as Linux and OVS do, so a weftd restart
// does not cut established connections), but a SYN-ACK or RST never opens
// one. A picked-up connection (kConnPickup, set by ConnTable::insert for a
// connection that starts past the handshake) stays embryonic, and times out
// like one (tcp_unreplied), until its originator sends again after the
// other side answered: original, reply, original. Two bare ACKs, one each
// way, do not make an assured entry with a day's timeout.
//
// ICMP echo: the request opens, only the reply may come back. UDP and other
// protocols: any packet opens; an answer makes the connection assured.
//
// Pure functions over a ConnEntry; the caller's thread.

#include <cstdint>
#include <optional>

#include "dataplane/conntrack/conn_entry.h"
#include "dataplane/conntrack/conn_key.h"

namespace weft::dp {

// Idle timeouts in seconds. Defaults follow Linux and OVS where they agree;
// established TCP is OVS's 24 hours rather than Linux's 5 days, since an
// entry held for days by a peer that vanished is memory a bounded table
// needs.
struct ConnTimeouts {
  uint32_t tcp_syn_sent = 30;
  uint32_t tcp_syn_recv = 30;
  uint32_t tcp_established = 24 * 3600;
  uint32_t tcp_fin_wait = 120;
  uint32_t tcp_close_wait = 60;
  uint32_t tcp_last_ack = 30;
  uint32_t tcp_time_wait = 120;
  uint32_t tcp_close = 10;
  uint32_t udp_unreplied = 30;
  uint32_t udp_replied = 180;
  uint32_t icmp = 30;
  uint32_t other_unreplied = 30;
  uint32_t other_replied = 180;
  // A TCP connection picked up mid-stream that has not been answered yet.
  uint32_t tcp_unreplied = 30;

  // Seconds an entry in `state` lives idle; `replied`: reply seen.
  uint32_t for_state(ConnState state, bool replied) const;
};

// TCP header flag bits (RFC 9293 §3.1).
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                         kTcpAck = 0x10, kTcpUrg = 0x20;

enum class TcpSegment : uint8_t { kSyn, kSynAck, kFin, kAck, kRst, kInvalid };
TcpSegment tcp_segment(uint8_t flags);

// The state a connection opened by this packet starts in, or nullopt when
// this packet may not open one (TCP SYN-ACK, RST or invalid flags; an ICMP
// echo reply).
std::optional<ConnState> open_state(uint8_t proto, const PacketTuple& t);

enum class TrackResult : uint8_t {
  kOk,       // the packet fits; the entry has moved on
  kInvalid,  // it does not fit the state: drop it, leave the entry alone
  kReopen,   // a SYN on a closed connection: a new connection on the same tuple
};

// Moves `e` on by one packet going `dir`. Does not touch last_seen, the
// class or the lists: the table does (conn_table.h).
TrackResult track(ConnEntry& e, ConnDir dir, const PacketTuple& t);

// The class `e` belongs in by its state.
ConnClass class_of(const ConnEntry& e);

const char* conn_state_name(ConnState s);

}  // namespace weft::dp
