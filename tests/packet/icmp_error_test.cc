// ICMPv4 errors of the distributed router (dataplane/l3/icmp_error.h) about
// packets built here: each error kind field by field, its quote (the
// offending IP header byte for byte, then as much payload as 576 bytes
// hold), both checksums recomputed here; VLAN and VXLAN-inner offenders;
// a short output buffer; and every packet RFC 1812 says gets no error.
// Pure functions: no pipeline, but the packet builder and the parser.

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/l3/icmp_error.h"
#include "dataplane/pipeline/parse.h"
#include "tests/packet/packet_builder.h"

namespace weft::test {
namespace {

using dp::IcmpErrorKind;

const Mac kVmMac = mac("02:00:0a:01:01:0a");
const Mac kRouterMac = mac("02:fe:00:00:00:01");
const Mac kRemoteMac = mac("02:00:0a:01:02:14");
const uint32_t kVmIp = ip4("10.1.1.10");
const uint32_t kFarIp = ip4("10.1.2.20");
const uint32_t kGateway = ip4("10.1.1.1");

rte_ether_addr ether(const Mac& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.data(), m.size());
  return a;
}


dp::PktMeta parsed(const Bytes& frame, bool vxlan = false) {
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(frame.data(), static_cast<uint32_t>(frame.size()), md, vxlan),
            dp::DropReason::kNone);
  return md;
}

// Writes the error from an exactly sized copy of data[0, len) (ASan sees
// any read past it) into a buffer of out_cap; returns the frame.
Bytes error_about(const Bytes& frame, size_t len, const dp::FrameLayers& f, IcmpErrorKind kind,
                  uint16_t mtu = 0, uint32_t out_cap = dp::kIcmpErrorMaxFrameLen) {
  const Bytes data(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(len));
  Bytes out(out_cap, 0xa5);
  const uint32_t n = dp::write_icmp_error(data.data(), static_cast<uint32_t>(data.size()), f, kind,
                                          mtu, ether(kRouterMac), kGateway, out.data(), out_cap);
  EXPECT_LE(n, out_cap);
  if (n == 0) {
    for (uint8_t b : out) EXPECT_EQ(b, 0xa5) << "written though refused";
    return {};
  }
  out.resize(n);
  return out;
}
Bytes error_about(const Bytes& frame, IcmpErrorKind kind, uint16_t mtu = 0) {
  return error_about(frame, frame.size(), parsed(frame).outer, kind, mtu);
}

constexpr size_t kIp = 14, kIcmp = 34, kQuote = 42;

// Every field of the error frame, and the quote against the offending IP
// packet `offending_ip` (from its header on, without Ethernet padding).
void expect_error(const Bytes& e, const Mac& to_mac, uint32_t to_ip, uint8_t type, uint8_t code,
                  uint16_t mtu_word, const Bytes& offending_ip) {
  ASSERT_GE(e.size(), kQuote);
  EXPECT_EQ(mac_at(e, 0), to_mac);
  EXPECT_EQ(mac_at(e, 6), kRouterMac);
  EXPECT_EQ(be16_at(e, 12), RTE_ETHER_TYPE_IPV4) << "untagged";

  EXPECT_EQ(e[kIp], 0x45);
  EXPECT_EQ(e[kIp + 1], 0xc0) << "precedence 6";
  EXPECT_EQ(be16_at(e, kIp + 2), e.size() - kIp) << "total length";
  EXPECT_LE(be16_at(e, kIp + 2), 576);
  EXPECT_EQ(be16_at(e, kIp + 4), 0) << "id";
  EXPECT_EQ(be16_at(e, kIp + 6), 0) << "flags, fragment offset";
  EXPECT_EQ(e[kIp + 8], 64) << "TTL";
  EXPECT_EQ(e[kIp + 9], IPPROTO_ICMP);
  EXPECT_EQ(be32_at(e, kIp + 12), kGateway) << "from the gateway";
  EXPECT_EQ(be32_at(e, kIp + 16), to_ip) << "to the offender's source";
  EXPECT_EQ(inet_checksum({e.data() + kIp, 20}), 0) << "IP header checksum";

  EXPECT_EQ(e[kIcmp], type);
  EXPECT_EQ(e[kIcmp + 1], code);
  EXPECT_EQ(be16_at(e, kIcmp + 4), 0) << "unused";
  EXPECT_EQ(be16_at(e, kIcmp + 6), mtu_word) << "next-hop MTU (RFC 1191) or unused";
  EXPECT_EQ(inet_checksum({e.data() + kIcmp, e.size() - kIcmp}), 0) << "ICMP checksum";

  const size_t quote = e.size() - kQuote;
  EXPECT_EQ(quote, std::min<size_t>(offending_ip.size(), 576 - 28));
  EXPECT_TRUE(std::equal(e.begin() + kQuote, e.end(), offending_ip.begin())) << "quote";

  // The parser takes it as the ICMP it is.
  const dp::PktMeta md = parsed(e);
  EXPECT_EQ(md.outer.l4_proto, IPPROTO_ICMP);
}

Bytes ip_packet(const Bytes& frame, const Frame& f, size_t nth_ipv4 = 0) {
  const LayerSpan ip = f.span(Layer::kIpv4, nth_ipv4);
  const size_t total = be16_at(frame, ip.begin + 2);
  return Bytes(frame.begin() + static_cast<ptrdiff_t>(ip.begin),
               frame.begin() + static_cast<ptrdiff_t>(ip.begin + total));
}

// The quoted inner header, field by field: as it arrived.
void expect_quoted_header(const Bytes& e, uint8_t ttl, uint32_t src, uint32_t dst, uint8_t proto) {
  EXPECT_EQ(e.at(kQuote) >> 4, 4);
  EXPECT_EQ(e.at(kQuote + 8), ttl);
  EXPECT_EQ(e.at(kQuote + 9), proto);
  EXPECT_EQ(be32_at(e, kQuote + 12), src);
  EXPECT_EQ(be32_at(e, kQuote + 16), dst);
  const size_t ihl = (e.at(kQuote) & 0x0f) * 4u;
  EXPECT_EQ(inet_checksum({e.data() + kQuote, ihl}), 0) << "quoted header's checksum still right";
}

TEST(IcmpError, TimeExceededQuotesTheWholeSmallPacket) {
  const Frame f = Frame()
                      .eth(kVmMac, kRouterMac)
                      .ipv4(kVmIp, kFarIp, {.ttl = 1, .id = 77})
                      .udp(33434, 33435)
                      .payload(32);
  const Bytes frame = f.bytes();
  const Bytes e = error_about(frame, IcmpErrorKind::kTimeExceeded);
  expect_error(e, kVmMac, kVmIp, 11, 0, 0, ip_packet(frame, f));
  expect_quoted_header(e, 1, kVmIp, kFarIp, IPPROTO_UDP);
  EXPECT_EQ(be16_at(e, kQuote + 20), 33434) << "the quoted UDP ports, for traceroute";
  EXPECT_EQ(e.size(), 14u + 28 + 20 + 8 + 32);
}

TEST(IcmpError, NetAndHostUnreachable) {
  const Frame f = Frame()
                      .eth(kVmMac, kRouterMac)
                      .ipv4(kVmIp, ip4("192.0.2.1"))
                      .tcp(40000, 443, {.flags = RTE_TCP_SYN_FLAG});
  const Bytes frame = f.bytes();
  const Bytes net = error_about(frame, IcmpErrorKind::kNetUnreachable);
  expect_error(net, kVmMac, kVmIp, 3, 0, 0, ip_packet(frame, f));
  expect_quoted_header(net, 64, kVmIp, ip4("192.0.2.1"), IPPROTO_TCP);
  const Bytes host = error_about(frame, IcmpErrorKind::kHostUnreachable);
  expect_error(host, kVmMac, kVmIp, 3, 1, 0, ip_packet(frame, f));
  expect_quoted_header(host, 64, kVmIp, ip4("192.0.2.1"), IPPROTO_TCP);
}

TEST(IcmpError, FragmentationNeededCarriesTheNextHopMtu) {
  const Frame f = Frame()
                      .eth(kVmMac, kRouterMac)
                      .ipv4(kVmIp, kFarIp, {.dont_fragment = true})
                      .udp(5000, 6000)
                      .payload(1472);
  const Bytes frame = f.bytes();
  const Bytes e = error_about(frame, IcmpErrorKind::kFragmentationNeeded, 1450);
  expect_error(e, kVmMac, kVmIp, 3, 4, 1450, ip_packet(frame, f));
  expect_quoted_header(e, 64, kVmIp, kFarIp, IPPROTO_UDP);
  EXPECT_EQ(be16_at(e, kQuote + 6) & 0x4000, 0x4000) << "quoted DF bit";
  // The MTU is only for 3/4: time exceeded ignores it.
  EXPECT_EQ(be16_at(error_about(frame, IcmpErrorKind::kTimeExceeded, 1450), kIcmp + 6), 0);
}

TEST(IcmpError, LargePacketIsQuotedUpTo576Bytes) {
  const Frame f = Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp).udp(5000, 6000).payload(1400);
  const Bytes frame = f.bytes();
  const Bytes e = error_about(frame, IcmpErrorKind::kHostUnreachable);
  EXPECT_EQ(e.size(), dp::kIcmpErrorMaxFrameLen);
  EXPECT_EQ(be16_at(e, kIp + 2), 576);
  expect_error(e, kVmMac, kVmIp, 3, 1, 0, ip_packet(frame, f));
  // The quoted header still says what the packet was: 1428 bytes.
  EXPECT_EQ(be16_at(e, kQuote + 2), 20 + 8 + 1400);
}

TEST(IcmpError, IpOptionsAreQuotedWithTheHeader) {
  const Bytes options = {0x94, 0x04, 0x00, 0x00};  // router alert
  const Frame f = Frame()
                      .eth(kVmMac, kRouterMac)
                      .ipv4(kVmIp, kFarIp, {.ttl = 1, .options = options})
                      .udp(1, 2)
                      .payload(10);
  const Bytes frame = f.bytes();
  const Bytes e = error_about(frame, IcmpErrorKind::kTimeExceeded);
  expect_error(e, kVmMac, kVmIp, 11, 0, 0, ip_packet(frame, f));
  EXPECT_EQ(e[kQuote], 0x46);
  EXPECT_TRUE(std::equal(options.begin(), options.end(), e.begin() + kQuote + 20));
}

TEST(IcmpError, EthernetPaddingIsNotQuoted) {
  const Frame f =
      Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp, {.ttl = 1}).udp(1, 2).pad_to(60);
  const Bytes frame = f.bytes();
  ASSERT_EQ(frame.size(), 60u);
  const Bytes e = error_about(frame, IcmpErrorKind::kTimeExceeded);
  expect_error(e, kVmMac, kVmIp, 11, 0, 0, ip_packet(frame, f));
  EXPECT_EQ(e.size(), kQuote + 28);
}

TEST(IcmpError, VlanTaggedOffenderGetsAnUntaggedError) {
  const Frame f = Frame()
                      .eth(kVmMac, kRouterMac)
                      .vlan(100)
                      .ipv4(kVmIp, kFarIp, {.ttl = 1})
                      .udp(1, 2)
                      .payload(8);
  const Bytes frame = f.bytes();
  const Bytes e = error_about(frame, IcmpErrorKind::kTimeExceeded);
  expect_error(e, kVmMac, kVmIp, 11, 0, 0, ip_packet(frame, f));
}

TEST(IcmpError, AboutTheInnerFrameOfAVxlanPacket) {
  const Frame f = Frame()
                      .eth(mac("02:00:00:00:ff:01"), mac("02:00:00:00:ff:02"))
                      .ipv4(ip4("172.31.0.2"), ip4("172.31.0.1"))
                      .udp(49152, 4789)
                      .vxlan(5001)
                      .eth(kRemoteMac, kRouterMac)
                      .ipv4(kFarIp, kVmIp, {.ttl = 1})
                      .icmp(8, 0, 1, 1)
                      .payload(56);
  const Bytes frame = f.bytes();
  const dp::PktMeta md = parsed(frame, /*vxlan=*/true);
  ASSERT_TRUE(md.outer.flags & dp::kFlagVxlan);
  EXPECT_TRUE(dp::icmp_error_allowed(frame.data(), static_cast<uint32_t>(frame.size()), md.inner));
  const Bytes e = error_about(frame, frame.size(), md.inner, IcmpErrorKind::kTimeExceeded);
  expect_error(e, kRemoteMac, kFarIp, 11, 0, 0, ip_packet(frame, f, 1));
  expect_quoted_header(e, 1, kFarIp, kVmIp, IPPROTO_ICMP);
}

TEST(IcmpError, ShortBufferCutsTheQuoteButNotBelowHeaderAnd64Bits) {
  const Frame f = Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp).udp(5000, 6000).payload(100);
  const Bytes frame = f.bytes();
  const dp::FrameLayers l = parsed(frame).outer;
  const Bytes ip = ip_packet(frame, f);
  const uint32_t least = kQuote + 20 + 8;
  const Bytes shortest =
      error_about(frame, frame.size(), l, IcmpErrorKind::kNetUnreachable, 0, least);
  ASSERT_EQ(shortest.size(), least);
  EXPECT_EQ(inet_checksum({shortest.data() + kIcmp, shortest.size() - kIcmp}), 0);
  EXPECT_TRUE(std::equal(shortest.begin() + kQuote, shortest.end(), ip.begin()));
  EXPECT_EQ(be16_at(shortest, kIp + 2), least - kIp);
  EXPECT_TRUE(
      error_about(frame, frame.size(), l, IcmpErrorKind::kNetUnreachable, 0, least - 1).empty());
  EXPECT_TRUE(error_about(frame, frame.size(), l, IcmpErrorKind::kNetUnreachable, 0, 0).empty());
  // A packet with less than 8 bytes of payload needs only what it has.
  const Frame tiny = Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp, {.proto = 253});
  const Bytes t = tiny.bytes();
  EXPECT_EQ(
      error_about(t, t.size(), parsed(t).outer, IcmpErrorKind::kNetUnreachable, 0, kQuote + 20)
          .size(),
      kQuote + 20);
}

TEST(IcmpError, RefusesWhatIsNotAnIpv4HeaderWithinTheData) {
  const Frame f =
      Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp, {.ttl = 1}).udp(1, 2).payload(20);
  const Bytes frame = f.bytes();
  const dp::FrameLayers l = parsed(frame).outer;
  dp::FrameLayers arp = l;
  arp.l3_type = dp::L3Type::kArp;
  EXPECT_TRUE(error_about(frame, frame.size(), arp, IcmpErrorKind::kTimeExceeded).empty());
  EXPECT_FALSE(dp::icmp_error_allowed(frame.data(), static_cast<uint32_t>(frame.size()), arp));
  dp::FrameLayers past = l;
  past.l3 = static_cast<uint16_t>(frame.size() - 19);
  EXPECT_TRUE(error_about(frame, frame.size(), past, IcmpErrorKind::kTimeExceeded).empty());
  EXPECT_FALSE(dp::icmp_error_allowed(frame.data(), static_cast<uint32_t>(frame.size()), past));
  Bytes bad_ihl = frame;
  poke8(bad_ihl, kIp, 0x44);
  EXPECT_TRUE(error_about(bad_ihl, bad_ihl.size(), l, IcmpErrorKind::kTimeExceeded).empty());
  Bytes bad_total = frame;
  poke16(bad_total, kIp + 2, 19);
  EXPECT_TRUE(error_about(bad_total, bad_total.size(), l, IcmpErrorKind::kTimeExceeded).empty());

  // Cut at every byte with the whole frame's layers: never a read past
  // the data; an error, when there is one, quotes only what is there.
  for (size_t n = 0; n < frame.size(); ++n) {
    SCOPED_TRACE(n);
    const Bytes data(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(n));
    dp::icmp_error_allowed(data.data(), static_cast<uint32_t>(n), l);
    const Bytes e = error_about(frame, n, l, IcmpErrorKind::kTimeExceeded);
    if (n < kIp + 20) {
      EXPECT_TRUE(e.empty());
    } else {
      ASSERT_EQ(e.size(), kQuote + (n - kIp));
      EXPECT_EQ(inet_checksum({e.data() + kIcmp, e.size() - kIcmp}), 0);
    }
  }
}

// RFC 1812 §4.3.2.7, case by case.
TEST(IcmpError, AllowedOnlyAboutOneHostsNonErrorFirstFragments) {
  struct Case {
    std::string what;
    Bytes frame;
    bool allowed;
  };
  const auto udp = [](uint32_t src, uint32_t dst, Mac eth_dst = kRouterMac) {
    return Frame().eth(kVmMac, eth_dst).ipv4(src, dst, {.ttl = 1}).udp(1, 2).payload(8).bytes();
  };
  const auto icmp = [](uint8_t type, uint8_t code = 0) {
    return Frame()
        .eth(kVmMac, kRouterMac)
        .ipv4(kVmIp, kFarIp, {.ttl = 1})
        .icmp(type, code)
        .payload(28)
        .bytes();
  };
  const Case cases[] = {
      {"UDP from a VM", udp(kVmIp, kFarIp), true},
      {"TCP from a VM", Frame().eth(kVmMac, kRouterMac).ipv4(kVmIp, kFarIp).tcp(1, 2).bytes(),
       true},
      {"echo request", icmp(8), true},
      {"echo reply", icmp(0), true},
      {"timestamp", icmp(13), true},
      {"address mask reply", icmp(18), true},
      {"destination unreachable", icmp(3, 1), false},
      {"source quench", icmp(4), false},
      {"redirect", icmp(5), false},
      {"time exceeded", icmp(11), false},
      {"parameter problem", icmp(12), false},
      {"a type no RFC here knows", icmp(42), false},
      {"first fragment",
       Frame()
           .eth(kVmMac, kRouterMac)
           .ipv4(kVmIp, kFarIp, {.more_fragments = true})
           .udp(1, 2)
           .payload(8)
           .bytes(),
       true},
      {"later fragment",
       Frame()
           .eth(kVmMac, kRouterMac)
           .ipv4(kVmIp, kFarIp, {.frag_offset = 185, .proto = IPPROTO_UDP})
           .payload(8)
           .bytes(),
       false},
      {"later fragment of an echo",
       Frame()
           .eth(kVmMac, kRouterMac)
           .ipv4(kVmIp, kFarIp, {.frag_offset = 1, .proto = IPPROTO_ICMP})
           .payload(8)
           .bytes(),
       false},
      {"Ethernet broadcast", udp(kVmIp, kFarIp, mac("ff:ff:ff:ff:ff:ff")), false},
      {"Ethernet multicast", udp(kVmIp, kFarIp, mac("01:00:5e:00:00:05")), false},
      {"to 255.255.255.255", udp(kVmIp, ip4("255.255.255.255")), false},
      {"to 224.0.0.5", udp(kVmIp, ip4("224.0.0.5")), false},
      {"to 239.1.1.1", udp(kVmIp, ip4("239.1.1.1")), false},
      {"to class E", udp(kVmIp, ip4("240.0.0.1")), false},
      {"from 0.0.0.0", udp(0, kFarIp), false},
      {"from 0.1.2.3", udp(ip4("0.1.2.3"), kFarIp), false},
      {"from loopback", udp(ip4("127.0.0.1"), kFarIp), false},
      {"from multicast", udp(ip4("224.1.1.1"), kFarIp), false},
      {"from class E", udp(ip4("250.0.0.1"), kFarIp), false},
      {"from 255.255.255.255", udp(ip4("255.255.255.255"), kFarIp), false},
      {"from 223.255.255.254", udp(ip4("223.255.255.254"), kFarIp), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const dp::PktMeta md = parsed(c.frame);
    EXPECT_EQ(
        dp::icmp_error_allowed(c.frame.data(), static_cast<uint32_t>(c.frame.size()), md.outer),
        c.allowed);
  }

  // An ICMP packet cut before its type byte: no way to tell, so no error.
  Bytes cut = icmp(8);
  const dp::FrameLayers l = parsed(cut).outer;
  cut.resize(kIp + 20);
  EXPECT_FALSE(dp::icmp_error_allowed(cut.data(), static_cast<uint32_t>(cut.size()), l));
}

}  // namespace
}  // namespace weft::test
