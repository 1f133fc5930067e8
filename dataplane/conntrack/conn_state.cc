#include "dataplane/conntrack/conn_state.h"

#include <netinet/in.h>
#include <rte_icmp.h>

#include <algorithm>

namespace weft::dp {
namespace {

using S = ConnState;

bool tcp_open(ConnState s) {
  return s >= S::kTcpSynSent && s <= S::kTcpClose;
}

// The first closer: the side whose FIN moved the connection to FIN_WAIT.
ConnDir closer(const ConnEntry& e) {
  return (e.flags & kConnCloserReply) ? ConnDir::kReply : ConnDir::kOriginal;
}

TrackResult tcp_track(ConnEntry& e, ConnDir dir, TcpSegment seg) {
  const bool orig = dir == ConnDir::kOriginal;
  const S s = e.state;
  auto to = [&](S next) {
    e.state = next;
    return TrackResult::kOk;
  };
  constexpr TrackResult kStay = TrackResult::kOk;
  constexpr TrackResult kInvalid = TrackResult::kInvalid;

  switch (seg) {
    case TcpSegment::kInvalid:
      return kInvalid;
    case TcpSegment::kRst:
      return to(S::kTcpClose);
    case TcpSegment::kSyn:
      if (s == S::kTcpTimeWait || s == S::kTcpClose) return TrackResult::kReopen;
      // A retransmitted SYN; simultaneous open is not followed.
      return (s == S::kTcpSynSent || s == S::kTcpSynRecv) && orig ? kStay : kInvalid;
    case TcpSegment::kSynAck:
      if (orig) return kInvalid;  // only the responder answers a SYN
      if (s == S::kTcpSynSent) return to(S::kTcpSynRecv);
      // Retransmitted: the SYN-ACK, or the ACK completing the handshake, got lost.
      return s == S::kTcpSynRecv || s == S::kTcpEstablished ? kStay : kInvalid;
    case TcpSegment::kAck:
      switch (s) {
        case S::kTcpSynSent:
          return kInvalid;  // nothing to acknowledge yet
        case S::kTcpSynRecv:
          return orig ? to(S::kTcpEstablished) : kInvalid;
        case S::kTcpFinWait:
          return dir != closer(e) ? to(S::kTcpCloseWait) : kStay;
        case S::kTcpLastAck:
          return dir == closer(e) ? to(S::kTcpTimeWait) : kStay;
        default:
          return kStay;
      }
    case TcpSegment::kFin:
      switch (s) {
        case S::kTcpSynSent:
          return kInvalid;
        case S::kTcpSynRecv:
          if (!orig) return kInvalid;
          [[fallthrough]];  // its ACK completes the handshake
        case S::kTcpEstablished:
          if (orig)
            e.flags &= static_cast<uint8_t>(~kConnCloserReply);
          else
            e.flags |= kConnCloserReply;
          return to(S::kTcpFinWait);
        case S::kTcpFinWait:
        case S::kTcpCloseWait:
          return dir == closer(e) ? kStay : to(S::kTcpLastAck);
        default:
          return kStay;  // retransmissions while closing
      }
  }
  return kInvalid;
}

}  // namespace

uint32_t ConnTimeouts::for_state(ConnState state, bool replied) const {
  switch (state) {
    case S::kFree:
    case S::kCount:
      return 0;
    case S::kTcpSynSent:
      return tcp_syn_sent;
    case S::kTcpSynRecv:
      return tcp_syn_recv;
    case S::kTcpEstablished:
      return replied ? tcp_established : std::min(tcp_established, tcp_unreplied);
    case S::kTcpFinWait:
      return replied ? tcp_fin_wait : std::min(tcp_fin_wait, tcp_unreplied);
    case S::kTcpCloseWait:
      return tcp_close_wait;
    case S::kTcpLastAck:
      return tcp_last_ack;
    case S::kTcpTimeWait:
      return tcp_time_wait;
    case S::kTcpClose:
      return tcp_close;
    case S::kUdpUnreplied:
      return udp_unreplied;
    case S::kUdpReplied:
      return udp_replied;
    case S::kIcmpUnreplied:
    case S::kIcmpReplied:
      return icmp;
    case S::kOtherUnreplied:
      return other_unreplied;
    case S::kOtherReplied:
      return other_replied;
  }
  return 0;
}

// Linux's tcp_valid_flags, with PSH, ECE and CWR masked out as there.
TcpSegment tcp_segment(uint8_t flags) {
  switch (flags & (kTcpFin | kTcpSyn | kTcpRst | kTcpAck | kTcpUrg)) {
    case kTcpSyn:
    case kTcpSyn | kTcpUrg:
      return TcpSegment::kSyn;
    case kTcpSyn | kTcpAck:
      return TcpSegment::kSynAck;
    case kTcpRst:
    case kTcpRst | kTcpAck:
      return TcpSegment::kRst;
    case kTcpFin | kTcpAck:
    case kTcpFin | kTcpAck | kTcpUrg:
      return TcpSegment::kFin;
    case kTcpAck:
    case kTcpAck | kTcpUrg:
      return TcpSegment::kAck;
    default:
      return TcpSegment::kInvalid;
  }
}

std::optional<ConnState> open_state(uint8_t proto, const PacketTuple& t) {
  switch (proto) {
    case IPPROTO_TCP:
      switch (tcp_segment(t.tcp_flags)) {
        case TcpSegment::kSyn:
          return S::kTcpSynSent;
        case TcpSegment::kAck:
          return S::kTcpEstablished;  // picked up mid-stream
        case TcpSegment::kFin:
          return S::kTcpFinWait;  // likewise, while closing
        default:
          return std::nullopt;
      }
    case IPPROTO_UDP:
      return S::kUdpUnreplied;
    case IPPROTO_ICMP:
      if (t.icmp_type == RTE_IP_ICMP_ECHO_REQUEST) return S::kIcmpUnreplied;
      return std::nullopt;
    default:
      return S::kOtherUnreplied;
  }
}

TrackResult track(ConnEntry& e, ConnDir dir, const PacketTuple& t) {
  const bool reply = dir == ConnDir::kReply;
  TrackResult r = TrackResult::kOk;
  if (tcp_open(e.state)) {
    r = tcp_track(e, dir, tcp_segment(t.tcp_flags));
  } else {
    switch (e.state) {
      case S::kUdpUnreplied:
        if (reply) e.state = S::kUdpReplied;
        break;
      case S::kIcmpUnreplied:
      case S::kIcmpReplied:
        // Requests go the original way, replies the other: B's own ping to A
        // is not a reply to A's ping that happens to share the identifier.
        if (t.icmp_type != (reply ? RTE_IP_ICMP_ECHO_REPLY : RTE_IP_ICMP_ECHO_REQUEST))
          return TrackResult::kInvalid;
        if (reply) e.state = S::kIcmpReplied;
        break;
      case S::kOtherUnreplied:
        if (reply) e.state = S::kOtherReplied;
        break;
      default:
        break;
    }
  }
  if (r == TrackResult::kOk) {
    // A picked-up connection has proved itself when its originator sends
    // again after an answer.
    if (!reply && (e.flags & kConnPickup) && e.reply_seen())
      e.flags &= static_cast<uint8_t>(~kConnPickup);
    if (reply) e.flags |= kConnReplySeen;
  }
  return r;
}

ConnClass class_of(const ConnEntry& e) {
  if (e.flags & kConnCut) return ConnClass::kClosing;  // the first to go under pressure
  switch (e.state) {
    case S::kTcpTimeWait:
    case S::kTcpClose:
      return ConnClass::kClosing;
    case S::kTcpSynSent:
    case S::kTcpSynRecv:
    case S::kUdpUnreplied:
    case S::kIcmpUnreplied:
    case S::kOtherUnreplied:
      return ConnClass::kEmbryonic;
    case S::kTcpEstablished:
    case S::kTcpFinWait:
    case S::kTcpCloseWait:
    case S::kTcpLastAck:
      return e.answered() ? ConnClass::kAssured : ConnClass::kEmbryonic;
    default:
      return ConnClass::kAssured;
  }
}

const char* conn_state_name(ConnState s) {
  switch (s) {
    case S::kFree:
      return "free";
    case S::kTcpSynSent:
      return "SYN_SENT";
    case S::kTcpSynRecv:
      return "SYN_RECV";
    case S::kTcpEstablished:
      return "ESTABLISHED";
    case S::kTcpFinWait:
      return "FIN_WAIT";
    case S::kTcpCloseWait:
      return "CLOSE_WAIT";
    case S::kTcpLastAck:
      return "LAST_ACK";
    case S::kTcpTimeWait:
      return "TIME_WAIT";
    case S::kTcpClose:
      return "CLOSE";
    case S::kUdpUnreplied:
      return "UDP_UNREPLIED";
    case S::kUdpReplied:
      return "UDP_REPLIED";
    case S::kIcmpUnreplied:
      return "ICMP_UNREPLIED";
    case S::kIcmpReplied:
      return "ICMP_REPLIED";
    case S::kOtherUnreplied:
      return "UNREPLIED";
    case S::kOtherReplied:
      return "REPLIED";
    case S::kCount:
      break;
  }
  return "?";
}

}  // namespace weft::dp
