// The overlay across the underlay, through weftd's policy-mode graph: VXLAN
// encap checked field by field (RFC 7348 §5), its source-port hashing, MTU
// and next-hop resolution; decap with each of its drops; and the node's own
// ARP on the underlay (answering for its VTEP, learning neighbors).

#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_mbuf.h>

#include <cstring>
#include <set>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/wire.h"
#include "tests/packet/overlay_topology.h"

namespace weft::test {
namespace {

using dp::DropReason;

const Topo T;

Mac mac_at(const Bytes& b, size_t at) {
  Mac m;
  std::memcpy(m.data(), b.data() + at, m.size());
  return m;
}
uint16_t be16_at(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t be32_at(const Bytes& b, size_t at) { return uint32_t{be16_at(b, at)} << 16 | be16_at(b, at + 2); }

// Checks one tunnel packet field by field, then as a whole against the
// packet the builder makes of the same fields; returns its UDP source port.
uint16_t expect_vxlan(const Captured& got, const Bytes& inner, uint32_t vni, uint32_t dst_vtep,
                      const Mac& dst_mac) {
  EXPECT_EQ(got.port, kUnderlayPort);
  const Bytes& b = got.bytes;
  if (b.size() != inner.size() + 50) {
    ADD_FAILURE() << "tunnel packet of " << b.size() << " bytes for a " << inner.size() << "-byte frame";
    return 0;
  }
  // Outer Ethernet: the underlay port to the next hop.
  EXPECT_EQ(mac_at(b, 0), dst_mac) << "eth.dst";
  EXPECT_EQ(mac_at(b, 6), T.kUnderlayMac) << "eth.src";
  EXPECT_EQ(be16_at(b, 12), RTE_ETHER_TYPE_IPV4);
  // Outer IPv4: this VTEP to the peer's, DF, TTL 64, a valid checksum.
  EXPECT_EQ(b[14], 0x45) << "version/ihl";
  EXPECT_EQ(b[15], 0) << "tos";
  EXPECT_EQ(be16_at(b, 16), inner.size() + 36) << "total length";
  EXPECT_EQ(be16_at(b, 18), 0) << "id";
  EXPECT_EQ(be16_at(b, 20), 0x4000) << "DF, no fragment offset";
  EXPECT_EQ(b[22], 64) << "ttl";
  EXPECT_EQ(b[23], IPPROTO_UDP);
  EXPECT_EQ(inet_checksum(std::span(b).subspan(14, 20)), 0) << "header checksum";
  EXPECT_EQ(be32_at(b, 26), T.kVtepA) << "src";
  EXPECT_EQ(be32_at(b, 30), dst_vtep) << "dst";
  // Outer UDP: a source port in the dynamic range, 4789, no checksum.
  const uint16_t sport = be16_at(b, 34);
  EXPECT_GE(sport, 49152) << "source port in the dynamic range";
  EXPECT_EQ(be16_at(b, 36), 4789);
  EXPECT_EQ(be16_at(b, 38), inner.size() + 16) << "udp length";
  EXPECT_EQ(be16_at(b, 40), 0) << "udp checksum";
  // VXLAN: I flag only, the VNI, reserved fields zero.
  EXPECT_EQ(be32_at(b, 42), 0x08000000u) << "flags and reserved";
  EXPECT_EQ(be32_at(b, 46), vni << 8) << "VNI and reserved";
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), b.begin() + 50)) << "inner frame untouched";
  EXPECT_TRUE(same_packet(b, Frame()
                                 .eth(T.kUnderlayMac, dst_mac)
                                 .ipv4(T.kVtepA, dst_vtep, {.dont_fragment = true})
                                 .udp(sport, 4789, {.checksum = 0})
                                 .vxlan(vni)
                                 .payload(inner)
                                 .bytes()));
  // The metadata describes the packet that left.
  EXPECT_EQ(got.meta.outer.l3, 14);
  EXPECT_EQ(got.meta.outer.l4, 34);
  EXPECT_EQ(got.meta.inner.l2, 50);
  EXPECT_TRUE(got.meta.outer.flags & dp::kFlagVxlan);
  return sport;
}

class OverlayEncapTest : public OverlayFixture {
 protected:
  void SetUp() override {
    OverlayFixture::SetUp();
    learn_neighbor(T.kVtepB, T.kNodeBMac);
  }

  // Sends one frame from a vNIC; expects exactly one packet out.
  const Captured* one(const Bytes& frame, uint16_t in_port = kRed1Port) {
    clear();
    run(frame, {.in_port = in_port});
    EXPECT_EQ(sent().size(), 1u) << "drops: " << drop_summary();
    return sent().size() == 1 ? &sent()[0] : nullptr;
  }
};

// A TCP frame whose inner IPv4 packet is `ip_len` bytes.
Bytes tcp_of_ip_len(const Addr& from, const Addr& to, size_t ip_len) {
  return Frame().eth(from.mac, to.mac).ipv4(from.ip, to.ip).tcp(1000, 80).payload(ip_len - 40).bytes();
}

TEST_F(OverlayEncapTest, EveryFieldOfTheTunnelPacket) {
  const struct {
    const char* what;
    Bytes inner;
    uint16_t in_port;
    uint32_t vni;
  } cases[] = {
      {"UDP red-1 -> red-3", vm_udp(T.kRed1, T.kRed3.mac, T.kRed3.ip).bytes(), kRed1Port, kRedVni},
      {"TCP red-2 -> red-3", tcp_of_ip_len(T.kRed2, T.kRed3, 1000), kRed2Port, kRedVni},
      {"ICMP", Frame().eth(T.kRed1.mac, T.kRed3.mac).ipv4(T.kRed1.ip, T.kRed3.ip).icmp(8, 0, 7, 1).payload(56).bytes(),
       kRed1Port, kRedVni},
      {"an ARP reply", Frame().eth(T.kRed1.mac, T.kRed3.mac)
                           .arp({.op = RTE_ARP_OP_REPLY, .sha = T.kRed1.mac, .spa = T.kRed1.ip,
                                 .tha = T.kRed3.mac, .tpa = T.kRed3.ip})
                           .pad_to(60).bytes(),
       kRed1Port, kRedVni},
      {"a frame at red's MTU", tcp_of_ip_len(T.kRed1, T.kRed3, kRedMtu), kRed1Port, kRedVni},
      {"blue-1 -> blue-3: blue's VNI", vm_udp(T.kBlue1, T.kBlue3.mac, T.kBlue3.ip).bytes(), kBlue1Port, kBlueVni},
      {"a frame at blue's MTU", tcp_of_ip_len(T.kBlue1, T.kBlue3, kBlueMtu), kBlue1Port, kBlueVni},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    if (const Captured* got = one(c.inner, c.in_port)) expect_vxlan(*got, c.inner, c.vni, T.kVtepB, T.kNodeBMac);
  }
}

TEST_F(OverlayEncapTest, SourcePortFollowsTheInnerFlow) {
  std::set<uint16_t> ports;
  for (uint16_t flow = 0; flow < 64; ++flow) {
    const Bytes there = Frame().eth(T.kRed1.mac, T.kRed3.mac).ipv4(T.kRed1.ip, T.kRed3.ip)
                            .udp(static_cast<uint16_t>(20000 + flow), 53).bytes();
    const Bytes again = Frame().eth(T.kRed1.mac, T.kRed3.mac).ipv4(T.kRed1.ip, T.kRed3.ip)
                            .udp(static_cast<uint16_t>(20000 + flow), 53).payload(100).bytes();
    const Captured* a = one(there);
    ASSERT_NE(a, nullptr);
    const uint16_t sport = expect_vxlan(*a, there, kRedVni, T.kVtepB, T.kNodeBMac);
    const Captured* b = one(again);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(be16_at(b->bytes, 34), sport) << "every packet of a flow takes one path";
    ports.insert(sport);
  }
  // 64 flows over 16384 ports: a handful of collisions at most.
  EXPECT_GE(ports.size(), 56u) << "source ports should spread the flows";
}

TEST_F(OverlayEncapTest, NeverFragments) {
  const PacketCase cases[] = {
      {"one byte over red's MTU", tcp_of_ip_len(T.kRed1, T.kRed3, kRedMtu + 1),
       Verdict::drop(DropReason::vxlan_encap_mtu)},
      {"one byte over blue's MTU", tcp_of_ip_len(T.kBlue1, T.kBlue3, kBlueMtu + 1),
       Verdict::drop(DropReason::vxlan_encap_mtu), {}, {}, kBlue1Port},
      {"a jumbo frame", tcp_of_ip_len(T.kRed1, T.kRed3, 1900), Verdict::drop(DropReason::vxlan_encap_mtu)},
  };
  for (PacketCase c : cases) {
    if (c.in_port == 0) c.in_port = kRed1Port;
    expect_case(c);
  }
}

TEST_F(OverlayEncapTest, NeedsHeadroom) {
  const Bytes frame = vm_udp(T.kRed1, T.kRed3.mac, T.kRed3.ip).bytes();
  rte_mbuf* m = rte_pktmbuf_alloc(packet_pool());
  ASSERT_NE(m, nullptr);
  m->data_off = 20;  // less than the 50 bytes of outer headers
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  rte_mbuf* const burst[] = {m};
  run_mbufs(burst, {.in_port = kRed1Port});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops(DropReason::vxlan_no_headroom), 1u) << drop_summary();
}

// node-c is off the underlay subnet: only a configured next hop reaches it.
TEST_F(OverlayEncapTest, ThroughTheNextHop) {
  const Bytes frame = vm_udp(T.kRed1, T.kRed4.mac, T.kRed4.ip).bytes();
  expect_case({"no next hop configured", frame, Verdict::drop(DropReason::vxlan_no_underlay_route), {}, {},
               kRed1Port});

  use_tables(overlay_tables(), T.kNextHop);
  learn_neighbor(T.kNextHop, T.kRouterMac);
  if (const Captured* got = one(frame)) expect_vxlan(*got, frame, kRedVni, T.kVtepC, T.kRouterMac);
}

// An ARP request for `target` from the node's VTEP, as weftd sends it.
Bytes underlay_who_has(uint32_t target) {
  return Frame()
      .eth(Topo::kUnderlayMac, Topo::kBroadcast)
      .arp({.sha = Topo::kUnderlayMac, .spa = Topo::kVtepA, .tpa = target})
      .pad_to(60)
      .bytes();
}

TEST_F(OverlayFixture, ResolvesTheNextHopBeforeSending) {
  const Bytes frame = vm_udp(T.kRed1, T.kRed3.mac, T.kRed3.ip).bytes();

  // Unknown neighbor: the frame is dropped and node-b is asked for.
  run(frame, {.in_port = kRed1Port});
  EXPECT_EQ(drops(DropReason::vxlan_neighbor_unresolved), 1u) << drop_summary();
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].port, kUnderlayPort);
  EXPECT_TRUE(same_packet(sent()[0].bytes, underlay_who_has(T.kVtepB)));

  // Within the probe interval, no second request, from any number of frames.
  clear();
  const Bytes burst[] = {frame, frame, frame};
  run(burst, {.in_port = kRed1Port});
  EXPECT_EQ(drops(DropReason::vxlan_neighbor_unresolved), 3u) << drop_summary();
  EXPECT_TRUE(sent().empty());

  // After it, one more.
  clear();
  set_now(kProbeInterval);
  run(frame, {.in_port = kRed1Port});
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_TRUE(same_packet(sent()[0].bytes, underlay_who_has(T.kVtepB)));

  // node-b answers; the reply is consumed and the next frame goes out.
  clear();
  run(Frame().eth(T.kNodeBMac, T.kUnderlayMac)
          .arp({.op = RTE_ARP_OP_REPLY, .sha = T.kNodeBMac, .spa = T.kVtepB, .tha = T.kUnderlayMac, .tpa = T.kVtepA})
          .pad_to(60).bytes(),
      {.in_port = kUnderlayPort});
  EXPECT_EQ(drops(DropReason::underlay_arp_learned), 1u) << drop_summary();
  EXPECT_TRUE(sent().empty());
  clear();
  run(frame, {.in_port = kRed1Port});
  ASSERT_EQ(sent().size(), 1u) << drop_summary();
  expect_vxlan(sent()[0], frame, kRedVni, T.kVtepB, T.kNodeBMac);

  // Past the reachable time the MAC is still used, and re-confirmed.
  clear();
  set_now(kProbeInterval + kReachable + 1);
  run(frame, {.in_port = kRed1Port});
  ASSERT_EQ(sent().size(), 2u) << drop_summary();
  const bool probe_first = sent()[0].bytes.size() == 60;
  expect_vxlan(sent()[probe_first ? 1 : 0], frame, kRedVni, T.kVtepB, T.kNodeBMac);
  EXPECT_TRUE(same_packet(sent()[probe_first ? 0 : 1].bytes, underlay_who_has(T.kVtepB)));
}

// --- decap ---------------------------------------------------------------------

class OverlayDecapTest : public OverlayFixture {};

PacketCase delivered(std::string what, const Bytes& packet, uint16_t port, const Bytes& inner) {
  return {std::move(what), packet, Verdict::tx(port), inner, {}, kUnderlayPort};
}
PacketCase refused(std::string what, const Bytes& packet, DropReason reason) {
  return {std::move(what), packet, Verdict::drop(reason), {}, {}, kUnderlayPort};
}

TEST_F(OverlayDecapTest, DeliversToTheLocalPort) {
  const Bytes to_red1 = vm_udp(T.kRed3, T.kRed1.mac, T.kRed1.ip).bytes();
  const Bytes to_red2 = tcp_of_ip_len(T.kRed3, T.kRed2, 500);
  const Bytes to_blue1 = vm_udp(T.kBlue3, T.kBlue1.mac, T.kBlue1.ip).bytes();  // red-1's MAC, in blue
  const Bytes at_mtu = tcp_of_ip_len(T.kRed3, T.kRed1, kRedMtu);
  const Bytes at_blue_mtu = tcp_of_ip_len(T.kBlue3, T.kBlue1, kBlueMtu);
  Bytes padded = tunnel(T.kVtepB, T.kNodeBMac, kRedVni, to_red1);
  padded.resize(padded.size() + 6, 0);  // trailing bytes after the IP packet
  const PacketCase cases[] = {
      delivered("red-3 -> red-1", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, to_red1), kRed1Port, to_red1),
      delivered("red-3 -> red-2", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, to_red2), kRed2Port, to_red2),
      delivered("blue: the same MAC, the other port", tunnel(T.kVtepB, T.kNodeBMac, kBlueVni, to_blue1),
                kBlue1Port, to_blue1),
      delivered("from node-c, behind a router",
                tunnel(T.kVtepC, T.kRouterMac, kRedVni, vm_udp(T.kRed4, T.kRed1.mac, T.kRed1.ip).bytes()),
                kRed1Port, vm_udp(T.kRed4, T.kRed1.mac, T.kRed1.ip).bytes()),
      delivered("at red's MTU", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, at_mtu), kRed1Port, at_mtu),
      delivered("at blue's MTU", tunnel(T.kVtepB, T.kNodeBMac, kBlueVni, at_blue_mtu), kBlue1Port, at_blue_mtu),
      delivered("an outer UDP checksum (optional, not checked)",
                Frame().eth(T.kNodeBMac, T.kUnderlayMac).ipv4(T.kVtepB, T.kVtepA).udp(50000, 4789).vxlan(kRedVni)
                    .payload(to_red1).bytes(),
                kRed1Port, to_red1),
      delivered("trailing bytes are not part of the inner frame", padded, kRed1Port, to_red1),
  };
  expect_cases(cases);
}

TEST_F(OverlayDecapTest, RefusesWhatIsNotForItsNetworks) {
  const Bytes inner = vm_udp(T.kRed3, T.kRed1.mac, T.kRed1.ip).bytes();
  const PacketCase cases[] = {
      refused("from an address that is no node's VTEP", tunnel(ip4("172.31.0.9"), T.kNodeBMac, kRedVni, inner),
              DropReason::vxlan_unknown_vtep),
      refused("forged from inside the overlay's address space", tunnel(T.kRed3.ip, T.kNodeBMac, kRedVni, inner),
              DropReason::vxlan_unknown_vtep),
      refused("from our own VTEP address", tunnel(T.kVtepA, T.kNodeBMac, kRedVni, inner),
              DropReason::vxlan_unknown_vtep),
      refused("a VNI of no network here", tunnel(T.kVtepB, T.kNodeBMac, 4242, inner), DropReason::vxlan_unknown_vni),
      refused("to another address", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, inner, 50000, ip4("172.31.0.7")),
              DropReason::vxlan_not_local),
      refused("over an IPv6 underlay",
              Frame().eth(T.kNodeBMac, T.kUnderlayMac).ipv6(ip6("fd00::2"), ip6("fd00::1")).udp(50000, 4789)
                  .vxlan(kRedVni).payload(inner).bytes(),
              DropReason::vxlan_not_local),
      refused("one byte over red's MTU", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, tcp_of_ip_len(T.kRed3, T.kRed1, kRedMtu + 1)),
              DropReason::vxlan_decap_mtu),
      refused("one byte over blue's MTU",
              tunnel(T.kVtepB, T.kNodeBMac, kBlueVni, tcp_of_ip_len(T.kBlue3, T.kBlue1, kBlueMtu + 1)),
              DropReason::vxlan_decap_mtu),
      refused("for a port on another node: never sent back",
              tunnel(T.kVtepB, T.kNodeBMac, kRedVni, vm_udp(T.kRed3, T.kRed4.mac, T.kRed4.ip).bytes()),
              DropReason::l2_underlay_to_underlay),
      refused("for the sender itself", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, vm_udp(T.kRed3, T.kRed3.mac, T.kRed3.ip).bytes()),
              DropReason::l2_underlay_to_underlay),
      refused("plain IP on the underlay",
              Frame().eth(T.kNodeBMac, T.kUnderlayMac).ipv4(T.kVtepB, T.kVtepA).icmp(8, 0, 1, 1).bytes(),
              DropReason::underlay_not_vxlan),
      refused("UDP to another port", Frame().eth(T.kNodeBMac, T.kUnderlayMac).ipv4(T.kVtepB, T.kVtepA)
                                         .udp(50000, 4790).payload(inner).bytes(),
              DropReason::underlay_not_vxlan),
  };
  expect_cases(cases);
}

// Issue 17, item 3: a peer node injects only into the networks it hosts,
// and only as the ports the policy places on it.
TEST_F(OverlayDecapTest, APeerInjectsOnlyIntoItsNetworksAsItsOwnPorts) {
  const Mac multicast = mac("01:00:5e:00:00:01");
  const Mac unknown = mac("02:00:00:00:09:99");
  auto udp_from = [](const Mac& src_mac, uint32_t src_ip) {
    return Frame().eth(src_mac, T.kRed1.mac).ipv4(src_ip, T.kRed1.ip).udp(40000, 5000).payload(18).bytes();
  };
  const Bytes red3_ok = vm_udp(T.kRed3, T.kRed1.mac, T.kRed1.ip).bytes();
  const Bytes unknown_ok = udp_from(unknown, ip4("192.168.7.9"));
  const PacketCase cases[] = {
      refused("node-c hosts no port of blue", tunnel(T.kVtepC, T.kRouterMac, kBlueVni,
                                                     vm_udp(T.kBlue3, T.kBlue1.mac, T.kBlue1.ip).bytes()),
              DropReason::vxlan_vni_not_hosted),
      refused("a VLAN-tagged inner frame",
              tunnel(T.kVtepB, T.kNodeBMac, kRedVni,
                     Frame().eth(T.kRed3.mac, T.kRed1.mac).vlan(7).ipv4(T.kRed3.ip, T.kRed1.ip).udp(40000, 5000)
                         .payload(18).bytes()),
              DropReason::vxlan_inner_vlan),
      refused("a multicast source MAC", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(multicast, T.kRed3.ip)),
              DropReason::vxlan_inner_src_multicast),
      refused("the broadcast source MAC", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(T.kBroadcast, T.kRed3.ip)),
              DropReason::vxlan_inner_src_multicast),
      refused("node-b as node-c's red-4 (MAC and IP)",
              tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(T.kRed4.mac, T.kRed4.ip)),
              DropReason::vxlan_inner_src_spoofed),
      refused("node-b as this node's red-2", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(T.kRed2.mac, T.kRed2.ip)),
              DropReason::vxlan_inner_src_spoofed),
      refused("node-b's red-3 MAC with red-4's IP", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(T.kRed3.mac, T.kRed4.ip)),
              DropReason::vxlan_inner_src_spoofed),
      refused("node-b's red-3 MAC with this node's red-1 IP",
              tunnel(T.kVtepB, T.kNodeBMac, kRedVni, udp_from(T.kRed3.mac, T.kRed1.ip)),
              DropReason::vxlan_inner_src_spoofed),
      refused("an ARP from node-b claiming red-4's address",
              tunnel(T.kVtepB, T.kNodeBMac, kRedVni,
                     Frame().eth(T.kRed3.mac, T.kBroadcast)
                         .arp({.op = 1, .sha = T.kRed3.mac, .spa = T.kRed4.ip, .tpa = T.kRed1.ip}).pad_to(60).bytes()),
              DropReason::vxlan_inner_src_spoofed),
      refused("node-c as node-b's red-3", tunnel(T.kVtepC, T.kRouterMac, kRedVni, red3_ok),
              DropReason::vxlan_inner_src_spoofed),
      delivered("node-b as its own red-3", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, red3_ok), kRed1Port, red3_ok),
      delivered("a source the policy places nowhere", tunnel(T.kVtepB, T.kNodeBMac, kRedVni, unknown_ok), kRed1Port,
                unknown_ok),
  };
  expect_cases(cases);
}

// A flow-cache hit skips the inner source checks: its connection is bound
// to the peer whose frames the walk checked. The same tuple from another
// peer is no hit. (A source the policy places nowhere passes the checks
// from either peer, so only the binding tells them apart.)
TEST_F(OverlayDecapTest, ACachedConnectionIsBoundToItsPeer) {
  const Bytes stray = Frame().eth(mac("02:00:00:00:09:99"), T.kRed1.mac).ipv4(ip4("192.168.7.9"), T.kRed1.ip)
                          .udp(40000, 5000).payload(18).bytes();
  run(tunnel(T.kVtepB, T.kNodeBMac, kRedVni, stray), {.in_port = kUnderlayPort});  // the walk
  run(tunnel(T.kVtepB, T.kNodeBMac, kRedVni, stray), {.in_port = kUnderlayPort});  // a hit
  ASSERT_EQ(sent().size(), 2u) << drop_summary();
  EXPECT_EQ(sent()[1].port, kRed1Port);
  clear();
  run(tunnel(T.kVtepC, T.kRouterMac, kRedVni, stray), {.in_port = kUnderlayPort});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops_at(dp::NodeId::kTunnelSource, DropReason::ct_port_mismatch), 1u) << drop_summary();
  // A peer posing as another's port on a live connection is spoofing,
  // whatever the cache holds: red-3 (node-b's) -> red-1, then node-c as red-3.
  const Bytes red3 = vm_udp(T.kRed3, T.kRed1.mac, T.kRed1.ip).bytes();
  clear();
  run(tunnel(T.kVtepB, T.kNodeBMac, kRedVni, red3), {.in_port = kUnderlayPort});
  run(tunnel(T.kVtepC, T.kRouterMac, kRedVni, red3), {.in_port = kUnderlayPort});
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(drops(DropReason::vxlan_inner_src_spoofed), 1u) << drop_summary();
}

// --- the node's ARP on the underlay --------------------------------------------

class UnderlayArpTest : public OverlayFixture {
 protected:
  bool knows(uint32_t ip, Mac* mac = nullptr) {
    const uint32_t slot = snapshot().neighbors->find(ip);
    rte_ether_addr a;
    if (slot == dp::NeighborTable::kNone || !snapshot().neighbors->lookup(slot, a)) return false;
    if (mac != nullptr) std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), mac->begin());
    return true;
  }
};

Bytes underlay_arp(uint16_t op, const Mac& sha, uint32_t spa, uint32_t tpa, const Mac& dst = Topo::kBroadcast) {
  return Frame().eth(sha, dst).arp({.op = op, .sha = sha, .spa = spa, .tpa = tpa}).pad_to(60).bytes();
}

TEST_F(UnderlayArpTest, AnswersForTheVtepAddress) {
  const Bytes request = underlay_arp(RTE_ARP_OP_REQUEST, T.kNodeBMac, T.kVtepB, T.kVtepA);
  const Bytes reply = Frame()
                          .eth(T.kUnderlayMac, T.kNodeBMac)
                          .arp({.op = RTE_ARP_OP_REPLY, .sha = T.kUnderlayMac, .spa = T.kVtepA,
                                .tha = T.kNodeBMac, .tpa = T.kVtepB})
                          .pad_to(60)
                          .bytes();
  expect_case({"node-b asks for us", request, Verdict::tx(kUnderlayPort), reply, {}, kUnderlayPort});
  EXPECT_FALSE(knows(T.kVtepB)) << "a request teaches nothing: anyone may ask";
}

TEST_F(UnderlayArpTest, LearnsOnlyTrackedNeighbors) {
  const Mac stranger = mac("02:dd:00:00:00:77");
  const uint32_t stranger_ip = ip4("172.31.0.77");
  const Mac moved = mac("02:bb:00:00:00:22");
  const PacketCase cases[] = {
      {"a request for another host", underlay_arp(RTE_ARP_OP_REQUEST, T.kNodeBMac, T.kVtepB, stranger_ip),
       Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort},
      {"a stranger's reply to us", underlay_arp(RTE_ARP_OP_REPLY, stranger, stranger_ip, T.kVtepA, T.kUnderlayMac),
       Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort},
      {"a request from a sender that is no unicast host",
       underlay_arp(RTE_ARP_OP_REQUEST, T.kBroadcast, T.kVtepB, T.kVtepA),
       Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort},
      {"node-b announces a new MAC", underlay_arp(RTE_ARP_OP_REQUEST, moved, T.kVtepB, T.kVtepB),
       Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort},
  };
  expect_cases(cases);
  EXPECT_FALSE(knows(stranger_ip)) << "the wire cannot add entries";
  Mac learned;
  EXPECT_TRUE(knows(T.kVtepB, &learned)) << "gratuitous ARP updates a tracked neighbor";
  EXPECT_EQ(learned, moved);

  expect_case({"node-b's reply to us, unasked", underlay_arp(RTE_ARP_OP_REPLY, T.kNodeBMac, T.kVtepB, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort});
  EXPECT_TRUE(knows(T.kVtepB, &learned));
  EXPECT_EQ(learned, moved);
}

// Issue 17, item 10: a VTEP's MAC is learned from the answer to this
// node's own request, once, within the reply window; not from a reply
// nobody asked for, a request, or an announcement of an address off the
// underlay subnet.
TEST_F(UnderlayArpTest, LearnsOnlyAnswersToItsOwnRequests) {
  const Mac impostor = mac("02:ee:00:00:00:66");
  expect_case({"an unsolicited reply for node-b", underlay_arp(RTE_ARP_OP_REPLY, impostor, T.kVtepB, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort});
  EXPECT_FALSE(knows(T.kVtepB));
  const Bytes to_red3 = vm_udp(T.kRed1, T.kRed3.mac, T.kRed3.ip).bytes();
  // A frame for node-b: this node asks.
  run(to_red3, {.in_port = kRed1Port});
  EXPECT_EQ(drops(DropReason::vxlan_neighbor_unresolved), 1u) << drop_summary();
  clear();
  expect_case({"node-b answers", underlay_arp(RTE_ARP_OP_REPLY, T.kNodeBMac, T.kVtepB, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_learned), {}, {}, kUnderlayPort});
  Mac learned;
  EXPECT_TRUE(knows(T.kVtepB, &learned));
  EXPECT_EQ(learned, T.kNodeBMac);
  expect_case({"a second answer to the one request", underlay_arp(RTE_ARP_OP_REPLY, impostor, T.kVtepB, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort});
  EXPECT_TRUE(knows(T.kVtepB, &learned));
  EXPECT_EQ(learned, T.kNodeBMac);
}

TEST_F(UnderlayArpTest, AnAnswerPastTheReplyWindowIsNotTaken) {
  use_tables(overlay_tables(), T.kNextHop);
  run(vm_udp(T.kRed1, T.kRed4.mac, T.kRed4.ip).bytes(), {.in_port = kRed1Port});  // asks for the next hop
  EXPECT_EQ(drops(DropReason::vxlan_neighbor_unresolved), 1u) << drop_summary();
  clear();
  set_now((dp::NeighborTable::kReplyWindow + 1) * kProbeInterval);
  expect_case({"the router answers too late", underlay_arp(RTE_ARP_OP_REPLY, T.kRouterMac, T.kNextHop, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort});
  EXPECT_FALSE(knows(T.kNextHop));
  // node-c is no neighbor on the underlay subnet: its announcement teaches nothing.
  expect_case({"node-c announces itself", underlay_arp(RTE_ARP_OP_REQUEST, T.kRouterMac, T.kVtepC, T.kVtepC),
               Verdict::drop(DropReason::underlay_arp_not_ours), {}, {}, kUnderlayPort});
  EXPECT_FALSE(knows(T.kVtepC));
}

TEST_F(UnderlayArpTest, LearnsTheNextHopWhenOneIsConfigured) {
  use_tables(overlay_tables(), T.kNextHop);
  run(vm_udp(T.kRed1, T.kRed4.mac, T.kRed4.ip).bytes(), {.in_port = kRed1Port});  // asks for the next hop
  clear();
  expect_case({"the router answers", underlay_arp(RTE_ARP_OP_REPLY, T.kRouterMac, T.kNextHop, T.kVtepA, T.kUnderlayMac),
               Verdict::drop(DropReason::underlay_arp_learned), {}, {}, kUnderlayPort});
  EXPECT_TRUE(knows(T.kNextHop));
  EXPECT_FALSE(knows(T.kVtepC)) << "node-c is reached through the next hop, not resolved itself";
}

}  // namespace
}  // namespace weft::test
