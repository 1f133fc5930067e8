// The distributed router through weftd's policy-mode graph (build_worker_graph)
// on node-a: routed delivery to local and remote ports with their rewrites
// (TTL, checksums, MACs), static routes, pings to the gateway, each ICMP
// error with its quoted header, the node's ICMP rate limit, a flow-cache
// hit that replays exactly what the walk did, isolation between networks
// with the same addresses, and the DHCP server answering in the pipeline.
//
//   network red  VNI 1001, MTU 1450, router MAC 0a:00:00:00:03:e9
//     subnet a 10.0.1.0/24 (gateway 10.0.1.1)   subnet b 10.0.2.0/24 (10.0.2.1)
//     red-1  node-a port 1  a  10.0.1.10        red-2  node-a port 2  b  10.0.2.12
//     red-3  node-b         b  10.0.2.11        app    node-b         b  10.0.2.5
//     route 192.168.50.0/24 via 10.0.2.5 (app)
//   network blue VNI 1002: blue-1 node-a port 3 (red-1's address),
//     blue-3 node-b 10.0.2.11 (red-3's)

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_arp.h>
#include <rte_ip.h>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/worker_stats.h"
#include "tests/packet/overlay_topology.h"

namespace weft::test {
namespace {

using dp::DropReason;
using dp::NodeId;

const char* const kRouterPolicy = R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 1001
    subnets:
      - {name: a, cidr: 10.0.1.0/24, dns: [10.0.0.2]}
      - {name: b, cidr: 10.0.2.0/24, dhcp: false}
    routes: [{prefix: 192.168.50.0/24, next_hop: 10.0.2.5}]
  - name: blue
    vni: 1002
    subnets:
      - {name: a, cidr: 10.0.1.0/24}
      - {name: b, cidr: 10.0.2.0/24}
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-1, network: red, subnet: a, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a", security_groups: [open]}
  - {name: red-2, network: red, subnet: b, node: node-a, ip: 10.0.2.12, mac: "02:00:00:00:02:0c", security_groups: [open]}
  - {name: red-3, network: red, subnet: b, node: node-b, ip: 10.0.2.11, mac: "02:00:00:00:02:0b", security_groups: [open]}
  - {name: app, network: red, subnet: b, node: node-b, ip: 10.0.2.5, mac: "02:00:00:00:02:05",
     allowed_addresses: [192.168.50.0/24], security_groups: [open]}
  - {name: blue-1, network: blue, subnet: a, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a", security_groups: [open]}
  - {name: blue-3, network: blue, subnet: b, node: node-b, ip: 10.0.2.11, mac: "02:00:00:00:02:0b", security_groups: [open]}
)";

const Addr kRed1{mac("02:00:00:00:01:0a"), ip4("10.0.1.10")};
const Addr kRed2{mac("02:00:00:00:02:0c"), ip4("10.0.2.12")};
const Addr kRed3{mac("02:00:00:00:02:0b"), ip4("10.0.2.11")};
const Addr kApp{mac("02:00:00:00:02:05"), ip4("10.0.2.5")};
const Addr kBlue1 = kRed1;
const Mac kRedRouter = mac("0a:00:00:00:03:e9");   // router_mac(1001)
const Mac kBlueRouter = mac("0a:00:00:00:03:ea");  // router_mac(1002)
const uint32_t kGatewayA = ip4("10.0.1.1");
const uint32_t kGatewayB = ip4("10.0.2.1");
const Mac kNodeBMac = Topo::kNodeBMac;

proto::NodeTables router_tables() {
  Diagnostics diags;
  auto model = policy::load_policy_text(kRouterPolicy, "router.yaml", diags);
  EXPECT_TRUE(model.has_value()) << diags.format();
  if (!model) return {};
  return policy::compile_node(*model, "node-a");
}

// A checksummed range [at, at + len) whose checksum is right sums to 0.
bool checksum_ok(const Bytes& b, size_t at, size_t len) {
  return inet_checksum(std::span(b).subspan(at, len)) == 0;
}

// An ICMP error about `offender` (a frame red-1 sent), checked field by
// field: from `gateway` and the router MAC back to red-1, with the
// offender's IP header quoted as it was sent.
void expect_icmp_error(const Captured& c, const Bytes& offender, uint8_t type, uint8_t code,
                       uint32_t gateway = kGatewayA, uint16_t mtu = 0) {
  const Bytes& b = c.bytes;
  ASSERT_GE(b.size(), 14u + 20 + 8 + 28);
  EXPECT_EQ(c.port, kRed1Port);
  EXPECT_EQ(mac_at(b, 0), kRed1.mac);
  EXPECT_EQ(mac_at(b, 6), kRedRouter);
  EXPECT_EQ(b[14 + 9], IPPROTO_ICMP);
  EXPECT_EQ(be32_at(b, 14 + 12), gateway) << "from the sender's gateway";
  EXPECT_EQ(be32_at(b, 14 + 16), kRed1.ip);
  EXPECT_TRUE(checksum_ok(b, 14, 20)) << "IPv4 header checksum";
  const size_t icmp = 34;
  EXPECT_EQ(b[icmp], type);
  EXPECT_EQ(b[icmp + 1], code);
  EXPECT_TRUE(checksum_ok(b, icmp, b.size() - icmp)) << "ICMP checksum";
  if (mtu != 0) {
    EXPECT_EQ(be16_at(b, icmp + 6), mtu) << "next-hop MTU (RFC 1191)";
  }
  // The quoted IP header is the offender's, byte for byte.
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(b[icmp + 8 + i], offender[14 + i]) << "quoted header byte " << i;
}

class RouterTest : public OverlayFixture {
 protected:
  void SetUp() override {
    OverlayFixture::SetUp();
    use_tables(router_tables());
    learn_neighbor(Topo::kVtepB, kNodeBMac);
  }

  // One frame from red-1, alone; what left.
  const std::vector<Captured>& send(const Bytes& frame, uint16_t in_port = kRed1Port) {
    clear();
    run(frame, {.in_port = in_port});
    return sent();
  }
};

Frame udp_from(const Addr& from, const Mac& dst_mac, uint32_t dst, uint8_t ttl = 64, size_t payload = 18,
               bool df = false) {
  Frame f;
  f.eth(from.mac, dst_mac).ipv4(from.ip, dst, {.ttl = ttl, .dont_fragment = df}).udp(40000, 5000).payload(payload);
  return f;
}

TEST_F(RouterTest, RoutesToALocalPortOfAnotherSubnet) {
  const auto& out = send(udp_from(kRed1, kRedRouter, kRed2.ip).bytes());
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  EXPECT_EQ(out[0].port, kRed2Port);
  // Exactly what a router makes of it: its own MAC as source, the
  // destination's MAC, one hop off the TTL; the builder computes the
  // checksums the incremental update must have reached.
  const Bytes want = Frame()
                         .eth(kRedRouter, kRed2.mac)
                         .ipv4(kRed1.ip, kRed2.ip, {.ttl = 63})
                         .udp(40000, 5000)
                         .payload(18)
                         .bytes();
  EXPECT_TRUE(same_packet(out[0].bytes, want));
}

TEST_F(RouterTest, RoutesToARemotePortThroughItsNodesVtep) {
  const Bytes frame = Frame()
                          .eth(kRed1.mac, kRedRouter)
                          .ipv4(kRed1.ip, kRed3.ip, {.ttl = 10})
                          .tcp(40000, 80, {.flags = RTE_TCP_SYN_FLAG})
                          .bytes();
  const auto& out = send(frame);
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  EXPECT_EQ(out[0].port, kUnderlayPort);
  const Bytes inner = Frame()
                          .eth(kRedRouter, kRed3.mac)
                          .ipv4(kRed1.ip, kRed3.ip, {.ttl = 9})
                          .tcp(40000, 80, {.flags = RTE_TCP_SYN_FLAG})
                          .bytes();
  const Bytes& b = out[0].bytes;
  ASSERT_EQ(b.size(), 50 + inner.size());
  EXPECT_EQ(be32_at(b, 14 + 16), Topo::kVtepB) << "to node-b's VTEP";
  EXPECT_EQ(be32_at(b, 42 + 4) >> 8, kRedVni) << "in red's VNI";
  EXPECT_TRUE(same_packet(Bytes(b.begin() + 50, b.end()), inner)) << "the destination node bridges it in";
}

TEST_F(RouterTest, AStaticRouteLeadsToItsNextHopPort) {
  const auto& out = send(udp_from(kRed1, kRedRouter, ip4("192.168.50.7")).bytes());
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  EXPECT_EQ(out[0].port, kUnderlayPort) << "app is on node-b";
  const Bytes& b = out[0].bytes;
  EXPECT_EQ(mac_at(b, 50), kApp.mac) << "to the appliance's MAC";
  EXPECT_EQ(mac_at(b, 56), kRedRouter);
  EXPECT_EQ(be32_at(b, 50 + 14 + 16), ip4("192.168.50.7")) << "the destination address is the packet's";
}

// traceroute through an appliance: its time exceeded comes from the static
// route's next hop, which is on the connection's path, and reaches the
// sender; the same error from another VM does not.
TEST_F(RouterTest, ErrorsFromAStaticRoutesNextHopAreRelated) {
  const uint32_t behind = ip4("192.168.50.7");
  ASSERT_EQ(send(udp_from(kRed1, kRedRouter, behind).bytes()).size(), 1u) << drop_summary();
  const Bytes sent_ip = Frame().ipv4(kRed1.ip, behind, {.ttl = 1}).udp(40000, 5000).payload(18).bytes();
  const Bytes quote(sent_ip.begin(), sent_ip.begin() + 28);
  auto error_from = [&](const Addr& hop) {
    const Bytes inner = Frame().eth(kRedRouter, kRed1.mac).ipv4(hop.ip, kRed1.ip).icmp(11, 0).payload(quote).bytes();
    return tunnel(Topo::kVtepB, kNodeBMac, kRedVni, inner);
  };
  const auto& out = send(error_from(kApp), kUnderlayPort);
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  EXPECT_EQ(out[0].port, kRed1Port);
  EXPECT_TRUE(send(error_from(kRed3), kUnderlayPort).empty());
  EXPECT_EQ(drops(DropReason::ct_related_mismatch), 1u) << drop_summary();
}

TEST_F(RouterTest, NetworksWithTheSameAddressesRouteApart) {
  const auto& out = send(udp_from(kBlue1, kBlueRouter, kRed3.ip).bytes(), kBlue1Port);
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  EXPECT_EQ(be32_at(out[0].bytes, 42 + 4) >> 8, kBlueVni) << "blue's 10.0.2.11 is blue-3, in blue's VNI";
  // red's router MAC is no address in blue: unknown unicast, flooded in
  // blue, never routed into red.
  // (Another connection: the flow cache keys on the 5-tuple, and the one
  // above is now a cached routed flow.)
  const Bytes other = Frame().eth(kBlue1.mac, kRedRouter).ipv4(kBlue1.ip, kRed3.ip).udp(40001, 5000).bytes();
  for (const Captured& c : send(other, kBlue1Port)) {
    ASSERT_EQ(c.port, kUnderlayPort);
    EXPECT_EQ(be32_at(c.bytes, 42 + 4) >> 8, kBlueVni);
    EXPECT_EQ(mac_at(c.bytes, 50), kRedRouter) << "bridged as it was, not rewritten";
  }
}

TEST_F(RouterTest, AnswersPingsToEveryGatewayOfItsNetwork) {
  for (uint32_t gw : {kGatewayA, kGatewayB}) {
    const Bytes ping = Frame().eth(kRed1.mac, kRedRouter).ipv4(kRed1.ip, gw).icmp(8, 0, 7, 1).payload(32).bytes();
    const auto& out = send(ping);
    ASSERT_EQ(out.size(), 1u) << drop_summary();
    const Bytes want =
        Frame().eth(kRedRouter, kRed1.mac).ipv4(gw, kRed1.ip).icmp(0, 0, 7, 1).payload(32).bytes();
    EXPECT_EQ(out[0].port, kRed1Port);
    EXPECT_TRUE(same_packet(out[0].bytes, want));
  }
  // Anything else to the router is dropped, not forwarded.
  EXPECT_TRUE(send(udp_from(kRed1, kRedRouter, kGatewayA).bytes()).empty());
  EXPECT_EQ(drops(DropReason::l3_to_router), 1u);
}

TEST_F(RouterTest, TimeExceededFromTheSendersGatewayQuotingThePacket) {
  const Bytes frame = udp_from(kRed1, kRedRouter, kRed2.ip, /*ttl=*/1).bytes();
  const auto& out = send(frame);
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  expect_icmp_error(out[0], frame, 11, 0);
  EXPECT_EQ(drops(DropReason::l3_ttl_exceeded), 1u);
  EXPECT_EQ(stats().icmp_errors_sent.get(), 1u);
}

TEST_F(RouterTest, NetAndHostUnreachable) {
  const Bytes no_route = udp_from(kRed1, kRedRouter, ip4("8.8.8.8")).bytes();
  ASSERT_EQ(send(no_route).size(), 1u) << drop_summary();
  expect_icmp_error(sent()[0], no_route, 3, 0);
  EXPECT_EQ(drops(DropReason::no_route), 1u);

  const Bytes no_host = udp_from(kRed1, kRedRouter, ip4("10.0.2.99")).bytes();
  ASSERT_EQ(send(no_host).size(), 1u) << drop_summary();
  expect_icmp_error(sent()[0], no_host, 3, 1);
  EXPECT_EQ(drops(DropReason::l3_host_unknown), 1u);
}

TEST_F(RouterTest, FragmentationNeededForDontFragmentPacketsAboveTheMtu) {
  // 1451 bytes of IP: one more than red's MTU.
  const Bytes big = udp_from(kRed1, kRedRouter, kRed2.ip, 64, 1451 - 28, /*df=*/true).bytes();
  ASSERT_EQ(send(big).size(), 1u) << drop_summary();
  expect_icmp_error(sent()[0], big, 3, 4, kGatewayA, kRedMtu);
  EXPECT_EQ(drops(DropReason::l3_mtu_exceeded), 1u);

  // Without DF: dropped (never fragmented) and nothing said.
  EXPECT_TRUE(send(udp_from(kRed1, kRedRouter, kRed2.ip, 64, 1451 - 28).bytes()).empty());
  EXPECT_EQ(drops(DropReason::l3_mtu_exceeded), 1u);
  // At the MTU it passes.
  EXPECT_EQ(send(udp_from(kRed1, kRedRouter, kRed2.ip, 64, 1450 - 28, true).bytes()).size(), 1u);
  EXPECT_EQ(sent()[0].port, kRed2Port);
}

TEST_F(RouterTest, TheNodeRateLimitsItsErrors) {
  // 200 expiring packets in one instant: the bucket's burst (50) get an
  // answer, the rest are counted as limited; every packet is dropped.
  std::vector<Bytes> burst;
  for (uint16_t i = 0; i < 200; ++i) {
    Frame f;
    f.eth(kRed1.mac, kRedRouter).ipv4(kRed1.ip, kRed2.ip, {.ttl = 1}).udp(static_cast<uint16_t>(30000 + i), 33434);
    burst.push_back(f.bytes());
  }
  clear();
  set_now(1);
  for (size_t i = 0; i < burst.size(); i += 32)
    run(std::span(burst).subspan(i, std::min<size_t>(32, burst.size() - i)), {.in_port = kRed1Port});
  EXPECT_EQ(sent().size(), 50u);
  EXPECT_EQ(stats().icmp_errors_sent.get(), 50u);
  EXPECT_EQ(stats().icmp_errors_limited.get(), 150u);
  EXPECT_EQ(drops(DropReason::l3_ttl_exceeded), 200u);
}

// The issue's acceptance: a flow-cache hit leaves exactly the bytes its
// walk left, for a packet the tail rewrites.
TEST_F(RouterTest, AFlowCacheHitLeavesWhatTheWalkLeft) {
  const Bytes frame = udp_from(kRed1, kRedRouter, kRed2.ip).bytes();
  clear();
  run(frame, {.in_port = kRed1Port});  // walks: FIB, host, rewrite recorded
  run(frame, {.in_port = kRed1Port});  // a hit: the recorded rewrite, no FIB
  ASSERT_EQ(sent().size(), 2u) << drop_summary();
  EXPECT_TRUE(same_packet(sent()[1].bytes, sent()[0].bytes));
  EXPECT_EQ(sent()[1].port, sent()[0].port);
  EXPECT_EQ(graph().conntrack->stats().hits.get(), 1u) << "the second packet was a cache hit";

  // A hit too large for the MTU is answered quoting the header as it was
  // sent, TTL untouched, as the walk would.
  const Bytes big = udp_from(kRed1, kRedRouter, kRed2.ip, 64, 1451 - 28, /*df=*/true).bytes();
  run(big, {.in_port = kRed1Port});
  EXPECT_EQ(graph().conntrack->stats().hits.get(), 2u);
  ASSERT_EQ(sent().size(), 3u) << drop_summary();
  expect_icmp_error(sent()[2], big, 3, 4, kGatewayA, kRedMtu);
  clear();

  // And a hit whose TTL runs out is answered as the walk would be.
  const Bytes dying = udp_from(kRed1, kRedRouter, kRed2.ip, /*ttl=*/1).bytes();
  run(dying, {.in_port = kRed1Port});
  EXPECT_EQ(graph().conntrack->stats().hits.get(), 3u);
  ASSERT_EQ(sent().size(), 1u) << drop_summary();
  expect_icmp_error(sent()[0], dying, 11, 0);
}

TEST_F(RouterTest, NothingRoutesWhatCameFromTheUnderlay) {
  const Bytes inner = udp_from(kRed3, kRedRouter, kRed1.ip).bytes();
  EXPECT_TRUE(send(tunnel(Topo::kVtepB, kNodeBMac, kRedVni, inner), kUnderlayPort).empty());
  EXPECT_EQ(drops(DropReason::l3_not_local), 1u);
}

// --- DHCP, answered in the pipeline ---------------------------------------------

Bytes dhcp_message(uint8_t type, const Mac& chaddr, const Mac& src) {
  Bytes bootp(240, 0);
  bootp[0] = 1;  // BOOTREQUEST
  bootp[1] = 1;  // Ethernet
  bootp[2] = 6;
  bootp[4] = 0x12, bootp[5] = 0x34, bootp[6] = 0x56, bootp[7] = 0x78;  // xid
  bootp[10] = 0x80;                                                     // broadcast
  std::copy(chaddr.begin(), chaddr.end(), bootp.begin() + 28);
  const uint8_t cookie[] = {99, 130, 83, 99};
  std::copy(std::begin(cookie), std::end(cookie), bootp.begin() + 236);
  for (uint8_t b : {uint8_t{53}, uint8_t{1}, type, uint8_t{255}}) bootp.push_back(b);  // message type, end
  bootp.resize(300, 0);
  return Frame()
      .eth(src, mac("ff:ff:ff:ff:ff:ff"))
      .ipv4(0, ip4("255.255.255.255"))
      .udp(68, 67)
      .payload(bootp)
      .bytes();
}

Bytes dhcp_discover(const Mac& chaddr, const Mac& src) { return dhcp_message(1, chaddr, src); }

TEST_F(RouterTest, TheNodeAnswersDhcpWithThePortsPolicyAddress) {
  const auto& out = send(dhcp_discover(kRed1.mac, kRed1.mac));
  ASSERT_EQ(out.size(), 1u) << drop_summary();
  const Bytes& b = out[0].bytes;
  EXPECT_EQ(out[0].port, kRed1Port) << "back to the asking port, nowhere else";
  EXPECT_EQ(mac_at(b, 6), kRedRouter);
  EXPECT_EQ(be32_at(b, 14 + 12), kGatewayA) << "from the subnet's gateway";
  const size_t bootp = 42;
  EXPECT_EQ(b[bootp], 2) << "BOOTREPLY";
  EXPECT_EQ(be32_at(b, bootp + 4), 0x12345678u) << "xid";
  EXPECT_EQ(be32_at(b, bootp + 16), kRed1.ip) << "yiaddr: the policy's address";
  EXPECT_EQ(graph().dhcp->stats().verdicts[static_cast<size_t>(dp::DhcpVerdict::offer)].get(), 1u);

  // Another port's MAC in chaddr: refused, counted, unanswered.
  EXPECT_TRUE(send(dhcp_discover(kRed2.mac, kRed1.mac)).empty());
  EXPECT_EQ(drops(DropReason::dhcp_refused), 1u);
  // A VM playing DHCP server is stopped at its port.
  const Bytes offer = Frame().eth(kRed1.mac, kRed2.mac).ipv4(kRed1.ip, kRed2.ip).udp(67, 68).payload(300).bytes();
  EXPECT_TRUE(send(offer).empty());
  EXPECT_EQ(drops(DropReason::portsec_dhcp_server), 1u);
  // A RELEASE wants no answer; it stops here all the same.
  EXPECT_TRUE(send(dhcp_message(7, kRed1.mac, kRed1.mac)).empty());
  EXPECT_EQ(drops(DropReason::dhcp_no_answer), 1u);
  // red-2's subnet has dhcp: false: its DHCP is dropped, not answered.
  EXPECT_TRUE(send(dhcp_discover(kRed2.mac, kRed2.mac), kRed2Port).empty());
  EXPECT_EQ(drops(DropReason::dhcp_disabled), 1u);
}

TEST_F(RouterTest, OnlyIpv4IsRouted) {
  const Bytes arp = Frame()
                        .eth(kRed1.mac, kRedRouter)
                        .arp({.op = RTE_ARP_OP_REPLY, .sha = kRed1.mac, .spa = kRed1.ip, .tha = kRedRouter,
                              .tpa = kGatewayA})
                        .pad_to(60)
                        .bytes();
  EXPECT_TRUE(send(arp).empty());
  EXPECT_EQ(drops(DropReason::l3_not_ipv4), 1u) << drop_summary();
}

}  // namespace
}  // namespace weft::test
