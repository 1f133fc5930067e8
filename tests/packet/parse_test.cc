// The parse stage through the real pipeline: layer offsets and flags of
// every frame kind, every drop reason of the parser, truncation at every
// byte of every valid frame, VXLAN, chained mbufs and the flow hash.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dataplane/pipeline/parse.h"
#include "tests/packet/frame_kinds.h"
#include "tests/packet/packet_builder.h"
#include "tests/packet/pcap.h"
#include "tests/packet/pipeline_fixture.h"

namespace weft::test {
namespace {

using dp::DropReason;
using dp::FrameLayers;
using dp::L3Type;
using dp::NodeId;

const Mac kMacA = mac("02:00:00:00:00:0a");
const Mac kMacB = mac("02:00:00:00:00:0b");
const uint32_t kIpA = ip4("10.1.1.10");
const uint32_t kIpB = ip4("10.1.2.20");
const Ipv6Addr kIp6A = ip6("fd00:1::a");
const Ipv6Addr kIp6B = ip6("fd00:2::b");
const uint32_t kVtepA = ip4("172.31.0.1");
const uint32_t kVtepB = ip4("172.31.0.2");
constexpr uint16_t kVxlan = 4789;
constexpr uint16_t kTx = 7;  // the port the test sends parsed packets to

// What the parser should find in one frame; compared field by field.
struct Expect {
  uint16_t l2, l3, l4;
  L3Type l3_type;
  uint8_t l4_proto;
  uint8_t flags = 0;
  uint16_t ethertype = 0;  // 0: the usual one for l3_type
  uint16_t vlan_tci = 0;
};

void expect_layers(const FrameLayers& got, const Expect& want, const char* which) {
  SCOPED_TRACE(which);
  uint16_t ethertype = want.ethertype;
  if (ethertype == 0) {
    ethertype = want.l3_type == L3Type::kIpv4   ? RTE_ETHER_TYPE_IPV4
                : want.l3_type == L3Type::kIpv6 ? RTE_ETHER_TYPE_IPV6
                                                : RTE_ETHER_TYPE_ARP;
  }
  EXPECT_EQ(got.l2, want.l2);
  EXPECT_EQ(got.l3, want.l3);
  EXPECT_EQ(got.l4, want.l4);
  EXPECT_EQ(got.l3_type, want.l3_type);
  EXPECT_EQ(got.l4_proto, want.l4_proto);
  EXPECT_EQ(got.flags, want.flags);
  EXPECT_EQ(got.ethertype, ethertype);
  EXPECT_EQ(got.vlan_tci, want.vlan_tci);
}

// A good frame: forwarded unchanged to kTx with these layers.
PacketCase parses(std::string what, const Frame& f, Expect outer,
                  std::optional<Expect> inner = {}, uint32_t vni = 0) {
  Bytes b = f.bytes();
  return {std::move(what), b, Verdict::tx(kTx), b, [=](const Captured& c) {
            expect_layers(c.meta.outer, outer, "outer");
            if (inner) {
              expect_layers(c.meta.inner, *inner, "inner");
            } else {
              EXPECT_EQ(c.meta.inner.l2 | c.meta.inner.l3 | c.meta.inner.l4, 0);
            }
            EXPECT_EQ(c.meta.vni, vni);
            EXPECT_EQ(c.meta.generation, 0u);
            EXPECT_EQ(c.meta.drop_reason, 0u);
          }};
}

PacketCase drop_case(std::string what, Bytes b, DropReason r) {
  return {std::move(what), std::move(b), Verdict::drop(r)};
}

Frame eth() { return Frame().eth(kMacA, kMacB); }
Frame eth4() { return eth().ipv4(kIpA, kIpB); }
Frame eth6() { return eth().ipv6(kIp6A, kIp6B); }
// An outer VXLAN packet from VTEP A to VTEP B; add the inner frame.
Frame vxlan4(uint32_t vni = 5001) {
  return eth().ipv4(kVtepA, kVtepB).udp(49152, kVxlan).vxlan(vni);
}

using ParseStage = dp::ParseStage;

class ParseTest : public PipelineFixture {
 protected:
  void SetUp() override {
    parse_.wire(dp::ParseNext::kParsed, NodeId::kPolicyGate);
    set_stage(NodeId::kParse, parse_);
    set_stage(NodeId::kPolicyGate, to_tx_);
  }

  ParseStage parse_;
  SendToPort to_tx_{kTx};
};

TEST_F(ParseTest, FindsTheLayersOfEveryFrameKind) {
  constexpr uint8_t kV = dp::kFlagVlan, kFrag = dp::kFlagFragment,
                    kLater = dp::kFlagLaterFragment, kOpt = dp::kFlagIpOptions,
                    kVx = dp::kFlagVxlan;
  const PacketCase cases[] = {
      parses("ipv4 tcp", eth4().tcp(1, 2).payload(20),
             {.l2 = 0, .l3 = 14, .l4 = 34, .l3_type = L3Type::kIpv4, .l4_proto = IPPROTO_TCP}),
      parses("ipv4 icmp", eth4().icmp(8, 0, 1, 1),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_ICMP}),
      parses("ipv4 options", eth().ipv4(kIpA, kIpB, {.options = Bytes(8, 1)}).udp(1, 2),
             {0, 14, 42, L3Type::kIpv4, IPPROTO_UDP, kOpt}),
      parses("ipv4 other protocol: l4 is where its header starts",
             eth().ipv4(kIpA, kIpB, {.proto = IPPROTO_GRE}).payload(4),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_GRE}),
      parses("ipv4 first fragment",
             eth().ipv4(kIpA, kIpB, {.more_fragments = true}).tcp(1, 2).payload(100),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_TCP, kFrag}),
      parses("ipv4 later fragment: no l4",
             eth().ipv4(kIpA, kIpB, {.frag_offset = 8, .proto = IPPROTO_TCP}).payload(100),
             {0, 14, 0, L3Type::kIpv4, IPPROTO_TCP, kFrag | kLater}),
      parses("ipv4 last fragment: offset without MF",
             eth().ipv4(kIpA, kIpB, {.frag_offset = 8, .proto = IPPROTO_UDP}).payload(10),
             {0, 14, 0, L3Type::kIpv4, IPPROTO_UDP, kFrag | kLater}),
      parses("ipv4 DF only is no fragment",
             eth().ipv4(kIpA, kIpB, {.dont_fragment = true}).tcp(1, 2),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_TCP}),
      parses("802.1q", eth().vlan(100, RTE_ETHER_TYPE_VLAN, 5).ipv4(kIpA, kIpB).udp(1, 2),
             {0, 18, 38, L3Type::kIpv4, IPPROTO_UDP, kV, 0, (5 << 13) | 100}),
      parses("802.1ad + 802.1q: the outer tag is kept",
             eth().vlan(10, RTE_ETHER_TYPE_QINQ).vlan(100).ipv4(kIpA, kIpB).udp(1, 2),
             {0, 22, 42, L3Type::kIpv4, IPPROTO_UDP, kV, 0, 10}),
      parses("two 802.1q tags", eth().vlan(10).vlan(100).ipv6(kIp6A, kIp6B).udp(1, 2),
             {0, 22, 62, L3Type::kIpv6, IPPROTO_UDP, kV, 0, 10}),
      parses("arp", eth().arp({.op = RTE_ARP_OP_REPLY, .sha = kMacA, .spa = kIpA}).pad_to(60),
             {0, 14, 0, L3Type::kArp, 0}),
      parses("ipv6 tcp", eth6().tcp(1, 2), {0, 14, 54, L3Type::kIpv6, IPPROTO_TCP}),
      parses("ipv6 icmpv6", eth6().icmp(135, 0), {0, 14, 54, L3Type::kIpv6, IPPROTO_ICMPV6}),
      parses("ipv6 hop-by-hop, dstopts, routing",
             eth6().ipv6_ext(IPPROTO_HOPOPTS).ipv6_ext(IPPROTO_DSTOPTS, 16)
                 .ipv6_ext(IPPROTO_ROUTING, 24).udp(1, 2),
             {0, 14, 54 + 48, L3Type::kIpv6, IPPROTO_UDP, kOpt}),
      parses("ipv6 eight extension headers are the most",
             [] {
               Frame f = eth6();
               for (int i = 0; i < 8; ++i) f.ipv6_ext(IPPROTO_DSTOPTS);
               return f.udp(1, 2);
             }(),
             {0, 14, 54 + 64, L3Type::kIpv6, IPPROTO_UDP, kOpt}),
      parses("ipv6 no next header", eth6().payload(4), {0, 14, 54, L3Type::kIpv6, 59}),
      parses("ipv6 first fragment", eth6().ipv6_frag(0, true).tcp(1, 2).payload(100),
             {0, 14, 62, L3Type::kIpv6, IPPROTO_TCP, kOpt | kFrag}),
      parses("ipv6 later fragment: no l4", eth6().ipv6_frag(13, true, 1, IPPROTO_TCP).payload(100),
             {0, 14, 0, L3Type::kIpv6, IPPROTO_TCP, kOpt | kFrag | kLater}),
      parses("ipv6 atomic fragment is a whole packet", eth6().ipv6_frag(0, false).udp(1, 2),
             {0, 14, 62, L3Type::kIpv6, IPPROTO_UDP, kOpt}),
      parses("vxlan: outer and inner",
             vxlan4(0xabcdef).eth(kMacA, kMacB).vlan(9).ipv4(kIpA, kIpB).tcp(1, 2).payload(10),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, kVx},
             Expect{50, 68, 88, L3Type::kIpv4, IPPROTO_TCP, kV, 0, 9}, 0xabcdef),
      parses("vxlan over ipv6",
             eth6().udp(1, kVxlan).vxlan(1).eth(kMacA, kMacB).ipv6(kIp6A, kIp6B).icmp(128, 0),
             {0, 14, 54, L3Type::kIpv6, IPPROTO_UDP, kVx},
             Expect{70, 84, 124, L3Type::kIpv6, IPPROTO_ICMPV6}, 1),
      parses("vxlan arp", vxlan4(42).eth(kMacA, kMacB).arp({}),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, kVx}, Expect{50, 64, 0, L3Type::kArp, 0},
             42),
      parses("vxlan port as source port only is plain udp", eth4().udp(kVxlan, 1).payload(30),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP}),
      parses("a fragment to port 4789 is not decapsulated",
             eth().ipv4(kIpA, kIpB, {.more_fragments = true}).udp(1, kVxlan).vxlan(5)
                 .eth(kMacA, kMacB).ipv4(kIpA, kIpB),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, kFrag}),
      parses("inner frames are not decapsulated again",
             vxlan4(3).eth(kMacA, kMacB).ipv4(kIpA, kIpB).udp(1, kVxlan).payload(3),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, kVx},
             Expect{50, 64, 84, L3Type::kIpv4, IPPROTO_UDP}, 3),
  };
  expect_cases(cases);
}

TEST_F(ParseTest, VxlanReservedBitsAreIgnored) {
  Bytes b = vxlan4(42).eth(kMacA, kMacB).arp({}).bytes();
  const size_t vx = 42;
  for (size_t reserved : {vx + 1, vx + 2, vx + 3, vx + 7}) poke8(b, reserved, 0xff);
  const PacketCase c{"reserved fields all ones", b, Verdict::tx(kTx), b, [](const Captured& got) {
                       EXPECT_EQ(got.meta.vni, 42u);
                       EXPECT_TRUE(got.meta.outer.flags & dp::kFlagVxlan);
                     }};
  expect_case(c);
}

TEST_F(ParseTest, DropsMalformedPacketsUnderTheirReason) {
  const auto ipv4_tcp = [](const Ipv4Opts& o, const TcpOpts& t = {}, size_t payload = 10) {
    return eth().ipv4(kIpA, kIpB, o).tcp(1, 2, t).payload(payload).bytes();
  };
  Bytes long_chain;
  {
    Frame f = eth6();
    for (uint32_t i = 0; i <= dp::kMaxIpv6ExtHeaders; ++i) f.ipv6_ext(IPPROTO_DSTOPTS);
    long_chain = f.udp(1, 2).bytes();
  }
  const PacketCase cases[] = {
      drop_case("runt", Bytes(13, 0xff), DropReason::truncated_eth),
      drop_case("empty", Bytes{}, DropReason::truncated_eth),
      drop_case("three vlan tags", eth().vlan(1).vlan(2).vlan(3).ipv4(kIpA, kIpB).udp(1, 2).bytes(),
            DropReason::too_many_vlans),
      drop_case("lldp", Frame().eth(kMacA, kMacB, 0x88cc).payload(46).bytes(),
            DropReason::unsupported_ethertype),
      drop_case("802.3 length field", Frame().eth(kMacA, kMacB, 46).payload(46).bytes(),
            DropReason::unsupported_ethertype),
      drop_case("mpls", Frame().eth(kMacA, kMacB, 0x8847).payload(46).bytes(),
            DropReason::unsupported_ethertype),
      drop_case("ipv4 version 5", ipv4_tcp({.version = 5}), DropReason::bad_ipv4_version),
      drop_case("ipv4 ihl 4", ipv4_tcp({.ihl = 4}), DropReason::bad_ipv4_ihl),
      drop_case("ipv4 ihl 0", ipv4_tcp({.ihl = 0}), DropReason::bad_ipv4_ihl),
      drop_case("ipv4 ihl past the frame",
            eth().ipv4(kIpA, kIpB, {.ihl = 15, .total_length = 60}).payload(20).bytes(),
            DropReason::truncated_ipv4),
      drop_case("ipv4 ihl past the total length", ipv4_tcp({.ihl = 15}, {}, 0),
            DropReason::bad_ipv4_total_length),
      drop_case("ipv4 total length below the header", ipv4_tcp({.total_length = 19}),
            DropReason::bad_ipv4_total_length),
      drop_case("ipv4 total length 0", ipv4_tcp({.total_length = 0}),
            DropReason::bad_ipv4_total_length),
      drop_case("ipv4 total length one past the frame", ipv4_tcp({.total_length = 20 + 20 + 10 + 1}),
            DropReason::bad_ipv4_total_length),
      drop_case("ipv4 total length leaves no room for tcp", ipv4_tcp({.total_length = 20 + 12}),
            DropReason::truncated_tcp),
      drop_case("tcp data offset 4", ipv4_tcp({}, {.data_offset = 4}), DropReason::bad_tcp_offset),
      drop_case("tcp data offset past the ip packet", ipv4_tcp({}, {.data_offset = 15}),
            DropReason::bad_tcp_offset),
      drop_case("udp length 7", eth4().udp(1, 2, {.length = 7}).payload(10).bytes(),
            DropReason::bad_udp_length),
      drop_case("udp length past the ip packet", eth4().udp(1, 2, {.length = 19}).payload(10).bytes(),
            DropReason::bad_udp_length),
      drop_case("udp in 4 bytes of ip payload", eth().ipv4(kIpA, kIpB, {.proto = IPPROTO_UDP}).payload(4).bytes(),
            DropReason::truncated_udp),
      drop_case("icmp of 4 bytes", eth().ipv4(kIpA, kIpB, {.proto = IPPROTO_ICMP}).payload(4).bytes(),
            DropReason::truncated_icmp),
      drop_case("icmpv6 of 7 bytes",
            eth().ipv6(kIp6A, kIp6B, {.next_header = IPPROTO_ICMPV6}).payload(7).bytes(),
            DropReason::truncated_icmp),
      drop_case("ipv6 version 4", eth().ipv6(kIp6A, kIp6B, {.version = 4}).udp(1, 2).bytes(),
            DropReason::bad_ipv6_version),
      drop_case("ipv6 payload length past the frame",
            eth().ipv6(kIp6A, kIp6B, {.payload_length = 8 + 10 + 1}).udp(1, 2).payload(10).bytes(),
            DropReason::bad_ipv6_payload_length),
      drop_case("ipv6 payload length leaves no room for udp",
            eth().ipv6(kIp6A, kIp6B, {.payload_length = 4}).udp(1, 2).payload(10).bytes(),
            DropReason::truncated_udp),
      drop_case("ipv6 extension chain one too long", long_chain, DropReason::bad_ipv6_ext_header),
      drop_case("ipv6 hop-by-hop after another header",
            eth6().ipv6_ext(IPPROTO_DSTOPTS).ipv6_ext(IPPROTO_HOPOPTS).udp(1, 2).bytes(),
            DropReason::bad_ipv6_ext_header),
      drop_case("ipv6 extension header past the payload length",
            eth().ipv6(kIp6A, kIp6B, {.payload_length = 16}).ipv6_ext(IPPROTO_DSTOPTS, 24).udp(1, 2)
                .bytes(),
            DropReason::bad_ipv6_ext_header),
      drop_case("arp for ipv6", eth().arp({.ptype = RTE_ETHER_TYPE_IPV6}).bytes(), DropReason::bad_arp),
      drop_case("arp over token ring", eth().arp({.htype = 6}).bytes(), DropReason::bad_arp),
      drop_case("arp with 16-byte protocol addresses", eth().arp({.plen = 16}).bytes(),
            DropReason::bad_arp),
      drop_case("arp with 8-byte hardware addresses", eth().arp({.hlen = 8}).bytes(),
            DropReason::bad_arp),
  };
  std::vector<PacketCase> all(std::begin(cases), std::end(cases));
  for (uint8_t flags : {0x00, 0x88 /* GBP */, 0x0c /* GPE */, 0x09, 0xff}) {
    all.push_back(drop_case("vxlan flags " + std::to_string(flags),
                        eth().ipv4(kVtepA, kVtepB).udp(1, kVxlan).vxlan(5, flags).eth(kMacA, kMacB)
                            .arp({}).bytes(),
                        DropReason::bad_vxlan_flags));
  }
  all.push_back(drop_case("vxlan header cut by the udp length",
                      eth().ipv4(kVtepA, kVtepB).udp(1, kVxlan).payload(7).bytes(),
                      DropReason::truncated_vxlan));
  all.push_back(drop_case("vxlan inner frame shorter than ethernet",
                      vxlan4().payload(13).bytes(), DropReason::truncated_eth));
  all.push_back(drop_case("vxlan inner ipv4 with a bad ihl",
                      vxlan4().eth(kMacA, kMacB).ipv4(kIpA, kIpB, {.ihl = 3}).tcp(1, 2).bytes(),
                      DropReason::bad_ipv4_ihl));
  all.push_back(drop_case("vxlan inner total length past the outer udp",
                      vxlan4().eth(kMacA, kMacB).ipv4(kIpA, kIpB, {.total_length = 60}).tcp(1, 2)
                          .pad_to(200).bytes(),
                      DropReason::bad_ipv4_total_length));
  expect_cases(all);
}

TEST_F(ParseTest, AcceptsEthernetPaddingAndShortUdp) {
  const PacketCase cases[] = {
      parses("64-byte udp padded to 60", eth4().udp(1, 2).payload(1).pad_to(60),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP}),
      parses("ipv6 frame with trailing bytes", eth6().tcp(1, 2).pad_to(120),
             {0, 14, 54, L3Type::kIpv6, IPPROTO_TCP}),
      parses("udp length below the ip payload",
             eth4().udp(1, 2, {.length = 8}).payload(10), {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP}),
      parses("vxlan with outer padding", vxlan4(9).eth(kMacA, kMacB).arp({}).pad_to(128),
             {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, dp::kFlagVxlan},
             Expect{50, 64, 0, L3Type::kArp, 0}, 9),
  };
  expect_cases(cases);
}

// Which reason a frame cut just before byte `cut` must be dropped with,
// from where the builder put each layer: the header the cut falls in, or,
// inside a payload, the length of the innermost IP packet.
DropReason reason_for_cut(const std::vector<LayerSpan>& spans, size_t cut) {
  Layer last_ip = Layer::kEth;
  for (const LayerSpan& s : spans) {
    if (s.layer == Layer::kIpv4 || s.layer == Layer::kIpv6) last_ip = s.layer;
    if (cut < s.begin || cut >= s.end) continue;
    switch (s.layer) {
      case Layer::kEth: return DropReason::truncated_eth;
      case Layer::kVlan: return DropReason::truncated_vlan;
      case Layer::kArp: return DropReason::truncated_arp;
      case Layer::kIpv4: return DropReason::truncated_ipv4;
      case Layer::kIpv6:
      case Layer::kIpv6Ext:
      case Layer::kIpv6Frag: return DropReason::truncated_ipv6;
      case Layer::kUdp: return DropReason::truncated_udp;
      case Layer::kTcp: return DropReason::truncated_tcp;
      case Layer::kIcmp: return DropReason::truncated_icmp;
      case Layer::kVxlan: return DropReason::truncated_vxlan;
      case Layer::kPayload:
        return last_ip == Layer::kIpv6 ? DropReason::bad_ipv6_payload_length
                                       : DropReason::bad_ipv4_total_length;
      case Layer::kPadding: return DropReason::kNone;
    }
  }
  return DropReason::kNone;  // the whole frame
}

TEST_F(ParseTest, TruncationAtEveryByteOfEveryFrameKind) {
  for (const FrameKind& kind : frame_kinds()) {
    const Bytes full = kind.frame.bytes();
    const std::vector<LayerSpan> spans = kind.frame.layers();
    std::vector<Bytes> prefixes;
    std::vector<DropReason> want;
    for (size_t cut = 0; cut <= full.size(); ++cut) {
      prefixes.emplace_back(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
      want.push_back(reason_for_cut(spans, cut));
    }

    // Directly, over heap buffers of exactly the prefix length: under ASan
    // a read past the end is a crash, not a wrong verdict.
    for (size_t cut = 0; cut < prefixes.size(); ++cut) {
      const std::unique_ptr<uint8_t[]> exact(new uint8_t[cut + 1]);
      if (cut != 0) std::memcpy(exact.get(), prefixes[cut].data(), cut);
      dp::PktMeta md{};
      EXPECT_EQ(dp::parse_packet(exact.get(), static_cast<uint32_t>(cut), md, true), want[cut])
          << kind.name << " cut at " << cut << " of " << full.size();
    }

    // Through the stage, in one burst: every prefix counted exactly once.
    clear();
    run(prefixes);
    size_t good = 0;
    std::vector<uint64_t> want_drops(dp::kDropReasonCount);
    for (DropReason r : want) {
      if (r == DropReason::kNone) ++good;
      else ++want_drops[static_cast<size_t>(r)];
    }
    EXPECT_EQ(sent().size(), good) << kind.name;
    for (size_t r = 1; r < dp::kDropReasonCount; ++r)
      EXPECT_EQ(drops(static_cast<DropReason>(r)), want_drops[r])
          << kind.name << ": " << dp::kDropReasonNames[r];
  }
}

TEST_F(ParseTest, HeadersCutByTheFirstSegmentOfAChain) {
  // A jumbo-style chain: headers in the first segment, payload in the next.
  const Bytes full = eth4().tcp(1, 2).payload(1000).bytes();
  const auto chain = [&](size_t split) {
    rte_mbuf* head = to_mbuf(packet_pool(), std::span(full).first(split));
    rte_mbuf* tail = to_mbuf(packet_pool(), std::span(full).subspan(split));
    EXPECT_EQ(rte_pktmbuf_chain(head, tail), 0);
    return head;
  };
  rte_mbuf* pkts[] = {chain(54), chain(600), chain(40)};
  run_mbufs(pkts);
  ASSERT_EQ(sent().size(), 2u) << drop_summary();
  EXPECT_TRUE(same_packet(sent()[0].bytes, full));
  EXPECT_EQ(sent()[0].meta.outer.l4, 34);
  EXPECT_EQ(drops(DropReason::truncated_tcp), 1u) << drop_summary();
}

TEST_F(ParseTest, VxlanOnlyOnTheTunnelPorts) {
  const Frame f = vxlan4(7).eth(kMacA, kMacB).ipv4(kIpA, kIpB).udp(1, 2);
  parse_.set_vxlan_all_ports(false);
  parse_.set_vxlan_port(3, true);
  PacketCase on_vm_port = parses("udp/4789 from a VM port is plain udp", f,
                                 {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP});
  on_vm_port.in_port = 1;
  PacketCase on_underlay = parses("udp/4789 on the underlay is vxlan", f,
                                  {0, 14, 34, L3Type::kIpv4, IPPROTO_UDP, dp::kFlagVxlan},
                                  Expect{50, 64, 84, L3Type::kIpv4, IPPROTO_UDP}, 7);
  on_underlay.in_port = 3;
  expect_case(on_vm_port);
  expect_case(on_underlay);
}

TEST_F(ParseTest, PcapInPcapOut) {
  // Every frame kind, and a runt, through a capture file and back.
  std::vector<Bytes> frames;
  for (const FrameKind& kind : frame_kinds()) frames.push_back(kind.frame.bytes());
  frames.push_back(Bytes(10, 0));
  char dir[] = "/tmp/weft-parse-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string in = std::string(dir) + "/in.pcap", out = std::string(dir) + "/out.pcap";
  ASSERT_TRUE(write_pcap(in, frames));
  run_pcap(in);
  ASSERT_TRUE(write_pcap(out, sent_frames()));
  const PcapFile back = read_pcap(out);
  ASSERT_EQ(back.packets.size(), frames.size() - 1);
  for (size_t i = 0; i < back.packets.size(); ++i)
    EXPECT_TRUE(same_packet(back.packets[i].data, frames[i])) << frame_kinds()[i].name;
  EXPECT_EQ(drops(DropReason::truncated_eth), 1u);
  unlink(in.c_str());
  unlink(out.c_str());
  rmdir(dir);
}

TEST_F(ParseTest, SendsGoodPacketsToTheConfiguredNode) {
  ParseStage straight_to_tx;
  straight_to_tx.wire(dp::ParseNext::kParsed, NodeId::kTx);
  set_stage(NodeId::kParse, straight_to_tx);
  run(eth4().udp(1, 2).bytes(), {.in_port = 4});
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].port, 0) << "the parser resets out_port";
  EXPECT_EQ(sent()[0].meta.in_port, 4);
}

// --- flow hash ---------------------------------------------------------------

uint32_t hash_of(const Bytes& b) {
  dp::PktMeta md{};
  EXPECT_EQ(dp::parse_packet(b.data(), static_cast<uint32_t>(b.size()), md, true),
            DropReason::kNone);
  EXPECT_EQ(md.flow_hash, dp::kFlowHashUnset) << "hashed when first needed (flow_hash_of), not by the parser";
  return dp::flow_hash(b.data(), (md.outer.flags & dp::kFlagVxlan) ? md.inner : md.outer);
}

TEST(FlowHash, SameForBothDirections) {
  struct Flow {
    const char* what;
    Bytes forward, reverse;
  };
  const Flow flows[] = {
      {"ipv4 tcp", eth4().tcp(40000, 80).bytes(),
       Frame().eth(kMacB, kMacA).ipv4(kIpB, kIpA).tcp(80, 40000).bytes()},
      {"ipv4 udp, same address both ends",
       Frame().eth(kMacA, kMacB).ipv4(kIpA, kIpA).udp(1000, 2000).bytes(),
       Frame().eth(kMacB, kMacA).ipv4(kIpA, kIpA).udp(2000, 1000).bytes()},
      {"ipv4 icmp echo", eth4().icmp(8, 0, 9, 1).bytes(),
       Frame().eth(kMacB, kMacA).ipv4(kIpB, kIpA).icmp(0, 0, 9, 1).bytes()},
      {"ipv6 tcp", eth6().tcp(40000, 443).bytes(),
       Frame().eth(kMacB, kMacA).ipv6(kIp6B, kIp6A).tcp(443, 40000).bytes()},
      {"ipv6 udp, same address both ends", eth().ipv6(kIp6A, kIp6A).udp(5, 6).bytes(),
       eth().ipv6(kIp6A, kIp6A).udp(6, 5).bytes()},
      {"arp", eth().arp({.op = 1}).bytes(), Frame().eth(kMacB, kMacA).arp({.op = 2}).bytes()},
      {"vxlan: the inner flow, whatever the outer",
       vxlan4(1).eth(kMacA, kMacB).ipv4(kIpA, kIpB).tcp(1, 2).bytes(),
       Frame().eth(kMacB, kMacA).ipv4(kVtepB, kVtepA).udp(777, kVxlan).vxlan(1)
           .eth(kMacB, kMacA).ipv4(kIpB, kIpA).tcp(2, 1).bytes()},
  };
  for (const Flow& f : flows) EXPECT_EQ(hash_of(f.forward), hash_of(f.reverse)) << f.what;
}

TEST(FlowHash, TunnelledFlowHashesAsOnItsVmPort) {
  // The flow cache sees a flow leave a VM port and its replies arrive over
  // the tunnel: both must find the same entry.
  const Bytes vm_side = eth4().udp(1234, 53).payload(20).bytes();
  const Bytes tunnelled_reply =
      vxlan4(5001).eth(kMacB, kMacA).ipv4(kIpB, kIpA).udp(53, 1234).payload(20).bytes();
  EXPECT_EQ(hash_of(vm_side), hash_of(tunnelled_reply));
}

TEST(FlowHash, FragmentsHashWithTheirFirst) {
  const Bytes first =
      eth().ipv4(kIpA, kIpB, {.id = 5, .more_fragments = true}).udp(1, 2, {.length = 2000}).payload(100).bytes();
  const Bytes later =
      eth().ipv4(kIpA, kIpB, {.id = 5, .frag_offset = 14, .proto = IPPROTO_UDP}).payload(100).bytes();
  EXPECT_EQ(hash_of(first), hash_of(later));
  const Bytes first6 = eth6().ipv6_frag(0, true, 9).udp(1, 2).payload(100).bytes();
  const Bytes later6 = eth6().ipv6_frag(14, false, 9, IPPROTO_UDP).payload(100).bytes();
  EXPECT_EQ(hash_of(first6), hash_of(later6));
}

TEST(FlowHash, DiffersBetweenFlowsAndSpreads) {
  // 64 buckets over 6400 flows that differ only in the source port, then
  // only in the source address: a usable hash fills each bucket near its
  // mean of 100.
  for (int field = 0; field < 2; ++field) {
    std::set<uint32_t> distinct;
    std::vector<int> buckets(64);
    for (uint32_t i = 0; i < 6400; ++i) {
      const Bytes b = field == 0 ? eth4().tcp(static_cast<uint16_t>(10000 + i), 80).bytes()
                                 : eth().ipv4(kIpA + (i << 8), kIpB).tcp(1, 80).bytes();
      const uint32_t h = hash_of(b);
      distinct.insert(h);
      ++buckets[h % 64];
    }
    EXPECT_EQ(distinct.size(), 6400u) << "field " << field;
    for (int n : buckets) {
      EXPECT_GT(n, 50) << "field " << field;
      EXPECT_LT(n, 150) << "field " << field;
    }
  }
  EXPECT_NE(hash_of(eth4().tcp(1, 2).bytes()), hash_of(eth4().udp(1, 2).bytes()))
      << "the protocol is part of the flow";
  EXPECT_NE(hash_of(eth4().tcp(1, 2).bytes()), hash_of(eth4().tcp(2, 1).bytes()))
      << "swapping only the ports is another flow";
}

}  // namespace
}  // namespace weft::test
