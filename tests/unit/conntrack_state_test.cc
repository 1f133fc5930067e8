// Protocol state of tracked connections (dataplane/conntrack/conn_state.h):
// which packet opens a connection, every TCP transition and the packets
// each state refuses, ICMP echo directions, classes and timeouts.

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "dataplane/conntrack/conn_state.h"

namespace weft::dp {
namespace {

constexpr ConnDir O = ConnDir::kOriginal;
constexpr ConnDir R = ConnDir::kReply;
constexpr uint8_t SYN = kTcpSyn, ACK = kTcpAck, FIN = kTcpFin, RST = kTcpRst, PSH = kTcpPsh,
                  URG = kTcpUrg;

PacketTuple tcp(uint8_t flags) {
  PacketTuple t{};
  t.tcp_flags = flags;
  return t;
}

PacketTuple icmp(uint8_t type) {
  PacketTuple t{};
  t.icmp_type = type;
  return t;
}

ConnEntry opened(ConnState s) {
  ConnEntry e{};
  e.state = s;
  return e;
}

struct Step {
  ConnDir dir;
  uint8_t flags;
  TrackResult result;
  ConnState after;
};

struct Walk {
  std::string what;
  ConnState start;
  std::vector<Step> steps;
};

std::string flags_text(uint8_t f) {
  std::string s;
  for (auto [bit, name] : {std::pair{SYN, "SYN"},
                           {ACK, "ACK"},
                           {FIN, "FIN"},
                           {RST, "RST"},
                           {PSH, "PSH"},
                           {URG, "URG"}})
    if (f & bit) s += s.empty() ? name : std::string("|") + name;
  return s.empty() ? "none" : s;
}

TEST(ConnState, TcpTransitions) {
  const Walk walks[] = {
      {"three-way handshake, data, close from the client",
       ConnState::kTcpSynSent,
       {{O, SYN, TrackResult::kOk, ConnState::kTcpSynSent},  // retransmitted SYN
        {R, SYN | ACK, TrackResult::kOk, ConnState::kTcpSynRecv},
        {R, SYN | ACK, TrackResult::kOk, ConnState::kTcpSynRecv},  // retransmitted SYN-ACK
        {O, ACK, TrackResult::kOk, ConnState::kTcpEstablished},
        {O, ACK | PSH, TrackResult::kOk, ConnState::kTcpEstablished},
        {R, ACK, TrackResult::kOk, ConnState::kTcpEstablished},
        {O, FIN | ACK, TrackResult::kOk, ConnState::kTcpFinWait},
        {O, FIN | ACK, TrackResult::kOk, ConnState::kTcpFinWait},  // retransmitted FIN
        {R, ACK, TrackResult::kOk, ConnState::kTcpCloseWait},
        {R, ACK | PSH, TrackResult::kOk, ConnState::kTcpCloseWait},  // the half still open sends on
        {R, FIN | ACK, TrackResult::kOk, ConnState::kTcpLastAck},
        {R, ACK, TrackResult::kOk, ConnState::kTcpLastAck},  // not the first closer
        {O, ACK, TrackResult::kOk, ConnState::kTcpTimeWait},
        {R, FIN | ACK, TrackResult::kOk, ConnState::kTcpTimeWait},  // a stray retransmission
        {O, SYN, TrackResult::kReopen, ConnState::kTcpTimeWait}}},
      {"close from the server, simultaneous FINs",
       ConnState::kTcpEstablished,
       {{R, FIN | ACK, TrackResult::kOk, ConnState::kTcpFinWait},
        {O, FIN | ACK, TrackResult::kOk, ConnState::kTcpLastAck},
        {O, ACK, TrackResult::kOk, ConnState::kTcpLastAck},
        {R, ACK, TrackResult::kOk, ConnState::kTcpTimeWait}}},
      {"the handshake's ACK rides on the client's FIN",
       ConnState::kTcpSynRecv,
       {{O, FIN | ACK, TrackResult::kOk, ConnState::kTcpFinWait}}},
      {"refused: RST answers the SYN",
       ConnState::kTcpSynSent,
       {{R, RST | ACK, TrackResult::kOk, ConnState::kTcpClose},
        {R, RST, TrackResult::kOk, ConnState::kTcpClose},
        {O, ACK, TrackResult::kOk, ConnState::kTcpClose},
        {R, SYN, TrackResult::kReopen, ConnState::kTcpClose}}},
      {"reset while established",
       ConnState::kTcpEstablished,
       {{O, RST, TrackResult::kOk, ConnState::kTcpClose}}},
      {"SYN-ACK from the originator, ACK before the SYN-ACK",
       ConnState::kTcpSynSent,
       {{O, SYN | ACK, TrackResult::kInvalid, ConnState::kTcpSynSent},
        {O, ACK, TrackResult::kInvalid, ConnState::kTcpSynSent},
        {R, ACK, TrackResult::kInvalid, ConnState::kTcpSynSent},
        {R, SYN, TrackResult::kInvalid, ConnState::kTcpSynSent},  // simultaneous open
        {O, FIN | ACK, TrackResult::kInvalid, ConnState::kTcpSynSent}}},
      {"the responder may not complete its own handshake",
       ConnState::kTcpSynRecv,
       {{R, ACK, TrackResult::kInvalid, ConnState::kTcpSynRecv},
        {R, FIN | ACK, TrackResult::kInvalid, ConnState::kTcpSynRecv},
        {O, SYN | ACK, TrackResult::kInvalid, ConnState::kTcpSynRecv},
        {O, SYN, TrackResult::kOk, ConnState::kTcpSynRecv}}},
      {"established: no new SYN, a late SYN-ACK only from the responder",
       ConnState::kTcpEstablished,
       {{O, SYN, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {R, SYN, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, SYN | ACK, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {R, SYN | ACK, TrackResult::kOk, ConnState::kTcpEstablished}}},
      {"flags no segment carries are invalid in every state",
       ConnState::kTcpEstablished,
       {{O, 0, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, FIN, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, SYN | FIN, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, SYN | RST, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, FIN | RST | ACK, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, FIN | SYN | RST | PSH | ACK | URG, TrackResult::kInvalid, ConnState::kTcpEstablished},
        {O, ACK | URG | PSH, TrackResult::kOk, ConnState::kTcpEstablished}}},
  };
  for (const Walk& w : walks) {
    ConnEntry e = opened(w.start);
    for (size_t i = 0; i < w.steps.size(); ++i) {
      const Step& s = w.steps[i];
      SCOPED_TRACE(w.what + ", step " + std::to_string(i) + ": " +
                   (s.dir == O ? "original " : "reply ") + flags_text(s.flags));
      EXPECT_EQ(track(e, s.dir, tcp(s.flags)), s.result);
      EXPECT_STREQ(conn_state_name(e.state), conn_state_name(s.after));
    }
  }
}

TEST(ConnState, WhatMayOpenAConnection) {
  EXPECT_EQ(open_state(IPPROTO_TCP, tcp(SYN)), ConnState::kTcpSynSent);
  EXPECT_EQ(open_state(IPPROTO_TCP, tcp(SYN | URG)), ConnState::kTcpSynSent);
  // Picked up mid-stream, as Linux and OVS do.
  EXPECT_EQ(open_state(IPPROTO_TCP, tcp(ACK)), ConnState::kTcpEstablished);
  EXPECT_EQ(open_state(IPPROTO_TCP, tcp(ACK | PSH)), ConnState::kTcpEstablished);
  EXPECT_EQ(open_state(IPPROTO_TCP, tcp(FIN | ACK)), ConnState::kTcpFinWait);
  for (uint8_t never :
       {uint8_t(SYN | ACK), RST, uint8_t(RST | ACK), uint8_t(0), FIN, uint8_t(SYN | FIN)})
    EXPECT_EQ(open_state(IPPROTO_TCP, tcp(never)), std::nullopt) << flags_text(never);
  EXPECT_EQ(open_state(IPPROTO_UDP, {}), ConnState::kUdpUnreplied);
  EXPECT_EQ(open_state(IPPROTO_ICMP, icmp(8)), ConnState::kIcmpUnreplied);
  EXPECT_EQ(open_state(IPPROTO_ICMP, icmp(0)), std::nullopt);  // a reply to nothing
  EXPECT_EQ(open_state(IPPROTO_GRE, {}), ConnState::kOtherUnreplied);
}

TEST(ConnState, PseudoConnectionsAnswered) {
  ConnEntry udp = opened(ConnState::kUdpUnreplied);
  EXPECT_EQ(track(udp, O, {}), TrackResult::kOk);
  EXPECT_EQ(udp.state, ConnState::kUdpUnreplied);
  EXPECT_FALSE(udp.reply_seen());
  EXPECT_EQ(track(udp, R, {}), TrackResult::kOk);
  EXPECT_EQ(udp.state, ConnState::kUdpReplied);
  EXPECT_TRUE(udp.reply_seen());

  ConnEntry other = opened(ConnState::kOtherUnreplied);
  EXPECT_EQ(track(other, R, {}), TrackResult::kOk);
  EXPECT_EQ(other.state, ConnState::kOtherReplied);

  // Requests one way, replies the other: B's own ping to A is no reply to
  // A's ping that happens to carry the same identifier.
  ConnEntry ping = opened(ConnState::kIcmpUnreplied);
  EXPECT_EQ(track(ping, O, icmp(8)), TrackResult::kOk);
  EXPECT_EQ(track(ping, R, icmp(8)), TrackResult::kInvalid);
  EXPECT_EQ(track(ping, O, icmp(0)), TrackResult::kInvalid);
  EXPECT_EQ(ping.state, ConnState::kIcmpUnreplied);
  EXPECT_EQ(track(ping, R, icmp(0)), TrackResult::kOk);
  EXPECT_EQ(ping.state, ConnState::kIcmpReplied);
}

TEST(ConnState, Classes) {
  auto cls = [](ConnState s, bool replied) {
    ConnEntry e = opened(s);
    if (replied) e.flags |= kConnReplySeen;
    return class_of(e);
  };
  EXPECT_EQ(cls(ConnState::kTcpSynSent, false), ConnClass::kEmbryonic);
  EXPECT_EQ(cls(ConnState::kTcpSynRecv, true), ConnClass::kEmbryonic);
  EXPECT_EQ(cls(ConnState::kTcpEstablished, true), ConnClass::kAssured);
  // Picked up and never answered: still evictable.
  EXPECT_EQ(cls(ConnState::kTcpEstablished, false), ConnClass::kEmbryonic);
  EXPECT_EQ(cls(ConnState::kTcpCloseWait, true), ConnClass::kAssured);
  EXPECT_EQ(cls(ConnState::kTcpTimeWait, true), ConnClass::kClosing);
  EXPECT_EQ(cls(ConnState::kTcpClose, true), ConnClass::kClosing);
  EXPECT_EQ(cls(ConnState::kUdpUnreplied, false), ConnClass::kEmbryonic);
  EXPECT_EQ(cls(ConnState::kUdpReplied, true), ConnClass::kAssured);
  EXPECT_EQ(cls(ConnState::kIcmpUnreplied, false), ConnClass::kEmbryonic);
  EXPECT_EQ(cls(ConnState::kIcmpReplied, true), ConnClass::kAssured);
}

TEST(ConnState, Timeouts) {
  const ConnTimeouts t;
  EXPECT_EQ(t.for_state(ConnState::kTcpSynSent, false), 30u);
  EXPECT_EQ(t.for_state(ConnState::kTcpEstablished, true), 24u * 3600);
  EXPECT_EQ(t.for_state(ConnState::kTcpEstablished, false), 30u);  // picked up, unanswered
  EXPECT_EQ(t.for_state(ConnState::kTcpTimeWait, true), 120u);
  EXPECT_EQ(t.for_state(ConnState::kTcpClose, true), 10u);
  EXPECT_EQ(t.for_state(ConnState::kUdpUnreplied, false), 30u);
  EXPECT_EQ(t.for_state(ConnState::kUdpReplied, true), 180u);
  EXPECT_EQ(t.for_state(ConnState::kIcmpReplied, true), 30u);
  EXPECT_EQ(t.for_state(ConnState::kFree, false), 0u);
}

}  // namespace
}  // namespace weft::dp
