// What conntrack reads from a packet (conntrack/conn_key.h), over frames the
// real parser has taken apart: one key for both directions, ICMP echo by
// identifier, ICMP errors by the connection they quote, and what is not
// tracked at all.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/conntrack/conn_key.h"
#include "dataplane/pipeline/parse.h"
#include "tests/packet/packet_builder.h"

namespace weft::test {
namespace {

using dp::PacketTuple;
using dp::TupleKind;

const Mac kMacA = mac("02:00:00:00:00:0a");
const Mac kMacB = mac("02:00:00:00:00:0b");
const uint32_t kA = ip4("10.1.1.10");
const uint32_t kB = ip4("10.1.2.20");
constexpr uint32_t kVni = 5001;

TupleKind tuple_of(const Bytes& frame, PacketTuple& t, uint32_t vni = kVni) {
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(frame.data(), static_cast<uint32_t>(frame.size()), md, false),
            dp::DropReason::kNone);
  return dp::extract_tuple(frame.data(), md.outer, vni, t);
}

TEST(FlowcacheTuple, BothDirectionsOfTcpShareAKey) {
  PacketTuple fwd, rev;
  ASSERT_EQ(tuple_of(Frame()
                         .eth(kMacA, kMacB)
                         .ipv4(kA, kB)
                         .tcp(40000, 5432, {.flags = RTE_TCP_SYN_FLAG})
                         .bytes(),
                     fwd),
            TupleKind::kTracked);
  ASSERT_EQ(tuple_of(Frame()
                         .eth(kMacB, kMacA)
                         .ipv4(kB, kA)
                         .tcp(5432, 40000, {.flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG})
                         .bytes(),
                     rev),
            TupleKind::kTracked);
  EXPECT_EQ(fwd.key, rev.key);
  EXPECT_NE(fwd.src_side, rev.src_side);
  EXPECT_EQ(fwd.tcp_flags, RTE_TCP_SYN_FLAG);
  EXPECT_EQ(rev.tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
  EXPECT_EQ(dp::conn_proto(fwd.key), IPPROTO_TCP);
  EXPECT_EQ(dp::conn_vni(fwd.key), kVni);
  // The key holds the addresses and ports as on the wire.
  EXPECT_EQ(fwd.key.addr[fwd.src_side], htonl(kA));
  EXPECT_EQ(fwd.key.port[fwd.src_side], htons(40000));
  EXPECT_EQ(fwd.key.addr[1 - fwd.src_side], htonl(kB));
  EXPECT_EQ(fwd.key.port[1 - fwd.src_side], htons(5432));
}

TEST(FlowcacheTuple, ZoneAndProtocolSeparate) {
  const Bytes udp = Frame().eth(kMacA, kMacB).ipv4(kA, kB).udp(40000, 53).bytes();
  const Bytes tcp = Frame().eth(kMacA, kMacB).ipv4(kA, kB).tcp(40000, 53).bytes();
  PacketTuple u1, u2, t;
  tuple_of(udp, u1, 5001);
  tuple_of(udp, u2, 5002);
  tuple_of(tcp, t, 5001);
  EXPECT_FALSE(u1.key == u2.key);
  EXPECT_FALSE(u1.key == t.key);
}

TEST(FlowcacheTuple, IcmpEchoByIdentifier) {
  PacketTuple req, rep, other;
  ASSERT_EQ(
      tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB).icmp(8, 0, 0x1234, 1).payload(8).bytes(),
               req),
      TupleKind::kTracked);
  ASSERT_EQ(
      tuple_of(Frame().eth(kMacB, kMacA).ipv4(kB, kA).icmp(0, 0, 0x1234, 1).payload(8).bytes(),
               rep),
      TupleKind::kTracked);
  ASSERT_EQ(
      tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB).icmp(8, 0, 0x1235, 1).payload(8).bytes(),
               other),
      TupleKind::kTracked);
  EXPECT_EQ(req.key, rep.key);
  EXPECT_NE(req.src_side, rep.src_side);
  EXPECT_EQ(req.icmp_type, 8);
  EXPECT_EQ(rep.icmp_type, 0);
  EXPECT_FALSE(req.key == other.key);  // another ping session
}

// The first 8 bytes after the quoted IP header, as RFC 792 requires.
Bytes quote(const Bytes& ip_packet, size_t ihl = 20) {
  return Bytes(ip_packet.begin(), ip_packet.begin() + ihl + 8);
}

TEST(FlowcacheTuple, IcmpErrorsQuoteTheirConnection) {
  PacketTuple udp;
  tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB).udp(40000, 53).bytes(), udp);
  const Bytes sent = Frame().ipv4(kA, kB).udp(40000, 53).payload(12).bytes();

  // B answers A's datagram: port unreachable.
  PacketTuple err;
  ASSERT_EQ(
      tuple_of(Frame().eth(kMacB, kMacA).ipv4(kB, kA).icmp(3, 3).payload(quote(sent)).bytes(), err),
      TupleKind::kIcmpError);
  EXPECT_EQ(err.key, udp.key);
  EXPECT_EQ(err.src_side, udp.src_side);  // the quoted packet's sender: A
  EXPECT_EQ(err.icmp_type, 3);

  // A router on the way: time exceeded, from an address of its own.
  PacketTuple ttl;
  ASSERT_EQ(tuple_of(Frame()
                         .eth(kMacB, kMacA)
                         .ipv4(ip4("10.1.1.1"), kA)
                         .icmp(11, 0)
                         .payload(quote(sent))
                         .bytes(),
                     ttl),
            TupleKind::kIcmpError);
  EXPECT_EQ(ttl.key, udp.key);

  // A ping's error quotes the echo request.
  PacketTuple ping, ping_err;
  tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB).icmp(8, 0, 77, 1).bytes(), ping);
  const Bytes echo = Frame().ipv4(kA, kB).icmp(8, 0, 77, 1).bytes();
  ASSERT_EQ(tuple_of(Frame().eth(kMacB, kMacA).ipv4(kB, kA).icmp(3, 1).payload(quote(echo)).bytes(),
                     ping_err),
            TupleKind::kIcmpError);
  EXPECT_EQ(ping_err.key, ping.key);
}

TEST(FlowcacheTuple, IcmpErrorsThatQuoteNothingUsable) {
  const Bytes sent = Frame().ipv4(kA, kB).udp(40000, 53).payload(12).bytes();
  PacketTuple t;
  // Sent to someone other than the quoted packet's sender.
  EXPECT_EQ(tuple_of(Frame()
                         .eth(kMacB, kMacA)
                         .ipv4(kB, ip4("10.1.1.99"))
                         .icmp(3, 3)
                         .payload(quote(sent))
                         .bytes(),
                     t),
            TupleKind::kMalformed);
  // Quote cut inside the ports, or inside the IP header.
  EXPECT_EQ(tuple_of(Frame()
                         .eth(kMacB, kMacA)
                         .ipv4(kB, kA)
                         .icmp(3, 3)
                         .payload(Bytes(sent.begin(), sent.begin() + 22))
                         .bytes(),
                     t),
            TupleKind::kMalformed);
  EXPECT_EQ(tuple_of(Frame()
                         .eth(kMacB, kMacA)
                         .ipv4(kB, kA)
                         .icmp(3, 3)
                         .payload(Bytes(sent.begin(), sent.begin() + 12))
                         .bytes(),
                     t),
            TupleKind::kMalformed);
  // Not IPv4 inside.
  Bytes v6ish = quote(sent);
  v6ish[0] = 0x65;
  EXPECT_EQ(tuple_of(Frame().eth(kMacB, kMacA).ipv4(kB, kA).icmp(3, 3).payload(v6ish).bytes(), t),
            TupleKind::kMalformed);
}

TEST(FlowcacheTuple, WhatIsNotTracked) {
  PacketTuple t;
  EXPECT_EQ(tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB).icmp(13, 0).payload(12).bytes(), t),
            TupleKind::kStateless);  // timestamp request
  EXPECT_EQ(t.icmp_type, 13);
  EXPECT_EQ(tuple_of(Frame()
                         .eth(kMacA, kMacB)
                         .ipv4(kA, kB, {.more_fragments = true})
                         .udp(1, 2)
                         .payload(16)
                         .bytes(),
                     t),
            TupleKind::kFragment);
  EXPECT_EQ(
      tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB, {.frag_offset = 3}).udp(1, 2).bytes(), t),
      TupleKind::kFragment);
  EXPECT_EQ(
      tuple_of(Frame().eth(kMacA, kMacB).ipv6(ip6("fd00::1"), ip6("fd00::2")).udp(1, 2).bytes(), t),
      TupleKind::kNotIpv4);
  // Any other IP protocol is a connection between two addresses.
  EXPECT_EQ(
      tuple_of(Frame().eth(kMacA, kMacB).ipv4(kA, kB, {.proto = IPPROTO_GRE}).payload(8).bytes(),
               t),
      TupleKind::kTracked);
  EXPECT_EQ(t.key.port[0], 0);
  EXPECT_EQ(t.key.port[1], 0);
}

}  // namespace
}  // namespace weft::test
