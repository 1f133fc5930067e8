// The gateway (dataplane/gateway/) through weftd's policy-mode graph on
// node-a, which hosts gateway `edge` with its external port on DPDK port 5:
// ARP on the external port and the next hop's resolution, SNAT from local
// and remote VMs and its replies, floating IPs both ways, the checksums of
// every translated packet, the port range running out, forged inbound
// packets, two tenants with the same addresses, and policy changes
// (unrelated ones, a floating IP removed).
//
//   network red  VNI 1001  subnet priv 10.0.1.0/24, subnet pub 10.0.2.0/24 (public)
//     red-1  node-a port 1  priv  10.0.1.10
//     red-2  node-a port 2  pub   10.0.2.12  floating IP 203.0.113.10  [web]
//     red-3  node-b         priv  10.0.1.11
//     red-4  node-b         pub   10.0.2.13  floating IP 203.0.113.11  [web]
//   network blue VNI 1002  subnet priv 10.0.1.0/24
//     blue-1 node-a port 3  priv  10.0.1.10 (red-1's address)
//   web: in tcp 80 from anywhere
//   edge: external 203.0.113.0/24, SNAT address 203.0.113.2, next hop
//         203.0.113.1; serves red and blue

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <algorithm>
#include <array>
#include <random>
#include <cstring>
#include <set>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/tables/snapshot_builder.h"
#include "tests/packet/worker_pair.h"

namespace weft::test {
namespace {

using dp::DropReason;

constexpr uint16_t kExtPort = 5;
const Mac kExtMac = mac("02:ee:00:00:00:01");
const Mac kNextHopMac = mac("02:ee:00:00:00:fe");
const uint32_t kExtIp = ip4("203.0.113.2");
const uint32_t kNextHop = ip4("203.0.113.1");
const uint32_t kFip2 = ip4("203.0.113.10");
const uint32_t kFip4 = ip4("203.0.113.11");
const uint32_t kServer = ip4("198.51.100.7");
const Mac kRedRouter = mac("0a:00:00:00:03:e9");
const Mac kBlueRouter = mac("0a:00:00:00:03:ea");
const Addr kRed1{mac("02:00:00:00:01:0a"), ip4("10.0.1.10")};
const Addr kRed2{mac("02:00:00:00:02:0c"), ip4("10.0.2.12")};
const Addr kRed3{mac("02:00:00:00:01:0b"), ip4("10.0.1.11")};
const Addr kRed4{mac("02:00:00:00:02:0d"), ip4("10.0.2.13")};
const Addr kBlue1 = kRed1;

std::string gateway_policy(bool with_fip2 = true, const std::string& extra_ports = "") {
  return R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - name: red
    vni: 1001
    subnets:
      - {name: priv, cidr: 10.0.1.0/24}
      - {name: pub, cidr: 10.0.2.0/24, public: true}
  - {name: blue, vni: 1002, subnets: [{name: priv, cidr: 10.0.1.0/24}]}
ports:
  - {name: red-1, network: red, subnet: priv, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a"}
  - {name: red-2, network: red, subnet: pub, node: node-a, ip: 10.0.2.12, mac: "02:00:00:00:02:0c",
     security_groups: [web]}
  - {name: red-3, network: red, subnet: priv, node: node-b, ip: 10.0.1.11, mac: "02:00:00:00:01:0b"}
  - {name: red-4, network: red, subnet: pub, node: node-b, ip: 10.0.2.13, mac: "02:00:00:00:02:0d",
     security_groups: [web]}
  - {name: blue-1, network: blue, subnet: priv, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a"}
)" + extra_ports + R"(
security_groups:
  - name: web
    ingress: [{protocol: tcp, ports: 80, from: 0.0.0.0/0}]
gateways:
  - name: edge
    node: node-a
    external_cidr: 203.0.113.0/24
    external_ip: 203.0.113.2
    external_next_hop: 203.0.113.1
    networks: [red, blue]
    floating_ips:
)" + (with_fip2 ? "      - {ip: 203.0.113.10, port: red-2}\n" : "") +
         "      - {ip: 203.0.113.11, port: red-4}\n";
}

// The Internet checksum over the IPv4 header, and over the TCP/UDP/ICMP
// segment (with the pseudo header where it has one), of a frame whose IP
// header starts at `l3` (20 bytes, no options).
void expect_checksums(const Bytes& b, size_t l3 = 14) {
  EXPECT_EQ(inet_checksum(std::span(b).subspan(l3, 20)), 0) << "IPv4 header checksum";
  const uint8_t proto = b[l3 + 9];
  const size_t l4 = l3 + 20;
  const uint32_t len = be16_at(b, l3 + 2) - 20u;
  uint32_t pseudo = 0;
  if (proto != IPPROTO_ICMP) {
    pseudo = be16_at(b, l3 + 12) + be16_at(b, l3 + 14) + be16_at(b, l3 + 16) + be16_at(b, l3 + 18) + proto + len;
  }
  if (proto == IPPROTO_UDP && be16_at(b, l4 + 6) == 0) return;  // no checksum
  EXPECT_EQ(inet_checksum(std::span(b).subspan(l4, len), pseudo), 0) << "L4 checksum, protocol " << int(proto);
}

Bytes from_server(uint32_t to, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags = 0,
                  const Ipv4Opts& ip = {}) {
  Frame f;
  f.eth(kNextHopMac, kExtMac).ipv4(kServer, to, ip);
  if (proto == IPPROTO_TCP) f.tcp(sport, dport, {.flags = tcp_flags});
  else f.udp(sport, dport);
  return f.payload(16).bytes();
}

class GatewayTest : public FlowCacheFixture {
 protected:
  void SetUp() override {
    build_graph(4096);
    apply(gateway_policy());
    at(1);
  }

  std::unique_ptr<dp::Snapshot> base() const override {
    auto s = overlay_base();
    s->ports[kExtPort] = {dp::PortRole::kExternal, dp::VnicKind::kDpdk, "external"};
    s->external_port = kExtPort;
    std::copy(kExtMac.begin(), kExtMac.end(), s->external.mac.addr_bytes);
    s->external.port_lo = port_lo_;
    s->external.port_hi = port_hi_;
    s->external.vlan = vlan_;
    s->external_neighbors = std::make_shared<dp::NeighborTable>(kProbeInterval, kReachable);
    return s;
  }

  void learn_next_hop() {
    const uint32_t slot = snapshot().gateway.next_hop_slot;
    rte_ether_addr a;
    std::copy(kNextHopMac.begin(), kNextHopMac.end(), a.addr_bytes);
    snapshot().external_neighbors->learn(slot, kNextHop, a, now());
  }

  // A UDP datagram from red-1 (or `from`, behind `router`) to the server.
  static Bytes to_server(const Addr& from, const Mac& router, uint16_t sport, uint16_t dport = 53) {
    return udp_frame(from, Addr{router, kServer}, sport, dport);
  }

  // Sends `frame` out of red-1's port and expects it out of the external
  // port, translated; returns the SNAT port.
  uint16_t snat(const Bytes& frame, uint16_t in_port, const Addr& from) {
    const Outcome o = send(frame, in_port);
    EXPECT_TRUE(o.delivered_to(kExtPort)) << o.drops;
    if (o.sent.size() != 1) return 0;
    const Bytes& b = o.sent[0].bytes;
    EXPECT_EQ(mac_at(b, 0), kNextHopMac);
    EXPECT_EQ(mac_at(b, 6), kExtMac);
    EXPECT_EQ(be32_at(b, 26), kExtIp) << "leaves from the SNAT address";
    EXPECT_EQ(be32_at(b, 30), kServer);
    EXPECT_NE(be32_at(b, 26), from.ip);
    expect_checksums(b);
    return be16_at(b, 34);
  }

  uint16_t port_lo_ = dp::ExternalIdentity::kDefaultPortLo;
  uint16_t port_hi_ = dp::ExternalIdentity::kDefaultPortHi;
  uint16_t vlan_ = 0;
};

TEST_F(GatewayTest, AnswersArpForItsAddressesOnly) {
  for (uint32_t ip : {kExtIp, kFip2, kFip4}) {
    const Bytes req = Frame()
                          .eth(kNextHopMac, Topo::kBroadcast)
                          .arp({.sha = kNextHopMac, .spa = kNextHop, .tpa = ip})
                          .bytes();
    const Outcome o = send(req, kExtPort);
    ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
    const Bytes& b = o.sent[0].bytes;
    EXPECT_EQ(mac_at(b, 0), kNextHopMac);
    EXPECT_EQ(be16_at(b, 20), RTE_ARP_OP_REPLY);
    EXPECT_EQ(mac_at(b, 22), kExtMac) << "answered with the external port's MAC";
    EXPECT_EQ(be32_at(b, 28), ip);
  }
  const Bytes other =
      Frame().eth(kNextHopMac, Topo::kBroadcast).arp({.sha = kNextHopMac, .spa = kNextHop, .tpa = ip4("203.0.113.99")}).bytes();
  EXPECT_EQ(send(other, kExtPort).drops, "gw_arp_not_ours=1");
  // An unasked reply from the next hop teaches nothing.
  const Bytes unasked = Frame()
                            .eth(kNextHopMac, kExtMac)
                            .arp({.op = RTE_ARP_OP_REPLY, .sha = kNextHopMac, .spa = kNextHop, .tha = kExtMac, .tpa = kExtIp})
                            .bytes();
  EXPECT_EQ(send(unasked, kExtPort).drops, "gw_arp_not_ours=1");
  rte_ether_addr learned;
  EXPECT_FALSE(snapshot().external_neighbors->lookup(snapshot().gateway.next_hop_slot, learned));
}

TEST_F(GatewayTest, ResolvesTheNextHopThenForwards) {
  const Bytes out = to_server(kRed1, kRedRouter, 40000);
  Outcome o = send(out, kRed1Port);
  EXPECT_EQ(o.drops, "gw_next_hop_unresolved=1");
  ASSERT_EQ(o.sent.size(), 1u) << "an ARP request for the next hop";
  const Bytes& req = o.sent[0].bytes;
  EXPECT_EQ(o.sent[0].port, kExtPort);
  EXPECT_EQ(be16_at(req, 12), RTE_ETHER_TYPE_ARP);
  EXPECT_EQ(be16_at(req, 20), RTE_ARP_OP_REQUEST);
  EXPECT_EQ(be32_at(req, 28), kExtIp) << "asked from the SNAT address";
  EXPECT_EQ(be32_at(req, 38), kNextHop);
  // Within the probe interval: no second request, still counted.
  o = send(out, kRed1Port);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "gw_next_hop_unresolved=1");
  // The next hop's answer to our request is learned and consumed...
  const Bytes reply = Frame()
                          .eth(kNextHopMac, kExtMac)
                          .arp({.op = RTE_ARP_OP_REPLY, .sha = kNextHopMac, .spa = kNextHop, .tha = kExtMac, .tpa = kExtIp})
                          .bytes();
  EXPECT_EQ(send(reply, kExtPort).drops, "gw_arp_learned=1");
  // ... and the same connection now leaves, translated.
  snat(out, kRed1Port, kRed1);
}

TEST_F(GatewayTest, SnatFromALocalVmAndItsReply) {
  learn_next_hop();
  const Bytes out = to_server(kRed1, kRedRouter, 40000);
  const Outcome o = send(out, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Bytes& b = o.sent[0].bytes;
  EXPECT_EQ(be32_at(b, 26), kExtIp);
  const uint16_t port = be16_at(b, 34);
  EXPECT_GE(port, dp::ExternalIdentity::kDefaultPortLo);
  EXPECT_EQ(be16_at(b, 36), 53) << "the server's port is kept";
  EXPECT_EQ(b[22], 63) << "one hop: the VM's router";
  expect_checksums(b);
  // A cache hit leaves the same bytes.
  const Outcome again = send(out, kRed1Port);
  ASSERT_TRUE(again.delivered_to(kExtPort)) << again.drops;
  EXPECT_TRUE(same_packet(again.sent[0].bytes, b));

  // The reply, to the SNAT address and port, goes back to red-1.
  for (int hit = 0; hit < 2; ++hit) {
    const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, port), kExtPort);
    ASSERT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
    const Bytes& rb = r.sent[0].bytes;
    EXPECT_EQ(mac_at(rb, 0), kRed1.mac);
    EXPECT_EQ(mac_at(rb, 6), kRedRouter);
    EXPECT_EQ(be32_at(rb, 26), kServer) << "the VM sees the server it addressed";
    EXPECT_EQ(be32_at(rb, 30), kRed1.ip);
    EXPECT_EQ(be16_at(rb, 34), 53);
    EXPECT_EQ(be16_at(rb, 36), 40000);
    expect_checksums(rb);
  }
}

TEST_F(GatewayTest, SnatOfTcpAndPingKeepsChecksums) {
  learn_next_hop();
  const Bytes syn = tcp_frame(kRed1, Addr{kRedRouter, kServer}, 41000, 443, RTE_TCP_SYN_FLAG, 10);
  const uint16_t port = snat(syn, kRed1Port, kRed1);
  const Outcome r = send(from_server(kExtIp, IPPROTO_TCP, 443, port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG), kExtPort);
  ASSERT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
  EXPECT_EQ(be16_at(r.sent[0].bytes, 36), 41000);
  expect_checksums(r.sent[0].bytes);

  const Bytes ping = icmp_frame(kRed1, Addr{kRedRouter, kServer}, RTE_IP_ICMP_ECHO_REQUEST, 0, 777);
  const Outcome o = send(ping, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Bytes& b = o.sent[0].bytes;
  EXPECT_EQ(be32_at(b, 26), kExtIp);
  const uint16_t id = be16_at(b, 38);
  EXPECT_NE(id, 777) << "the echo identifier is the SNAT's";
  expect_checksums(b);
  const Bytes pong = Frame()
                         .eth(kNextHopMac, kExtMac)
                         .ipv4(kServer, kExtIp)
                         .icmp(RTE_IP_ICMP_ECHO_REPLY, 0, id, 1)
                         .payload(16)
                         .bytes();
  const Outcome back = send(pong, kExtPort);
  ASSERT_TRUE(back.delivered_to(kRed1Port)) << back.drops;
  EXPECT_EQ(be16_at(back.sent[0].bytes, 38), 777);
  expect_checksums(back.sent[0].bytes);
}

TEST_F(GatewayTest, SnatFromARemoteVmTunnelsTheReplyBack) {
  learn_next_hop();
  // node-b's router sent it here: router MAC to router MAC, TTL spent there.
  const Bytes inner = Frame()
                          .eth(kRedRouter, kRedRouter)
                          .ipv4(kRed3.ip, kServer, {.ttl = 63})
                          .udp(42000, 53)
                          .payload(16)
                          .bytes();
  const Outcome o = send(from_node_b(inner), kUnderlayPort);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Bytes& b = o.sent[0].bytes;
  EXPECT_EQ(be32_at(b, 26), kExtIp);
  EXPECT_EQ(b[22], 63) << "the gateway is no hop of its own";
  expect_checksums(b);
  const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, be16_at(b, 34)), kExtPort);
  ASSERT_TRUE(r.delivered_to(kUnderlayPort)) << r.drops;
  const Bytes& rb = r.sent[0].bytes;
  EXPECT_EQ(be32_at(rb, 30), Topo::kVtepB) << "tunnelled to red-3's node";
  EXPECT_EQ(be32_at(rb, 46) >> 8, kRedVni);
  const Bytes in = inner_of(r.sent[0]);
  ASSERT_GE(in.size(), 42u);
  EXPECT_EQ(mac_at(in, 0), kRed3.mac);
  EXPECT_EQ(mac_at(in, 6), kRedRouter);
  EXPECT_EQ(be32_at(in, 30), kRed3.ip);
  EXPECT_EQ(be16_at(in, 36), 42000);
  expect_checksums(in);
}

TEST_F(GatewayTest, TwoTenantsWithOneAddressGetTheirOwnMappings) {
  learn_next_hop();
  const uint16_t red = snat(to_server(kRed1, kRedRouter, 40000), kRed1Port, kRed1);
  const uint16_t blue = snat(to_server(kBlue1, kBlueRouter, 40000), kBlue1Port, kBlue1);
  EXPECT_NE(red, blue);
  const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, red), kExtPort);
  EXPECT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
  const Outcome b = send(from_server(kExtIp, IPPROTO_UDP, 53, blue), kExtPort);
  EXPECT_TRUE(b.delivered_to(kBlue1Port)) << b.drops;
}

TEST_F(GatewayTest, PortsRunOutWithoutHurtingEstablishedOnes) {
  port_lo_ = 3000;
  port_hi_ = 3001;
  apply(gateway_policy());
  learn_next_hop();
  std::set<uint16_t> ports;
  ports.insert(snat(to_server(kRed1, kRedRouter, 40001), kRed1Port, kRed1));
  ports.insert(snat(to_server(kRed1, kRedRouter, 40002), kRed1Port, kRed1));
  EXPECT_EQ(ports, (std::set<uint16_t>{3000, 3001}));
  EXPECT_EQ(send(to_server(kRed1, kRedRouter, 40003), kRed1Port).drops, "gw_ports_exhausted=1");
  // Another server: the same ports are free towards it (the mapping is the
  // whole reply tuple).
  EXPECT_TRUE(send(udp_frame(kRed1, Addr{kRedRouter, ip4("198.51.100.8")}, 40003, 53), kRed1Port).delivered_to(kExtPort));
  for (uint16_t p : ports) {
    const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, p), kExtPort);
    EXPECT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
  }
}

TEST_F(GatewayTest, NothingFromOutsideOpensAConnection) {
  learn_next_hop();
  const struct {
    const char* what;
    Bytes frame;
    std::string drops;
  } cases[] = {
      {"to the SNAT address, no connection", from_server(kExtIp, IPPROTO_UDP, 53, 3000), "gw_no_mapping=1"},
      {"a SYN to the SNAT address", from_server(kExtIp, IPPROTO_TCP, 5555, 22, RTE_TCP_SYN_FLAG), "gw_no_mapping=1"},
      {"to an address that is not ours", from_server(ip4("203.0.113.99"), IPPROTO_UDP, 53, 3000),
       "gw_unknown_destination=1"},
      {"to a private address", from_server(kRed1.ip, IPPROTO_UDP, 53, 40000), "gw_unknown_destination=1"},
      {"from a martian", Frame().eth(kNextHopMac, kExtMac).ipv4(ip4("127.0.0.1"), kFip2).tcp(1, 80, {.flags = RTE_TCP_SYN_FLAG}).bytes(),
       "gw_martian_source=1"},
      {"from our own address", Frame().eth(kNextHopMac, kExtMac).ipv4(kExtIp, kFip2).tcp(1, 80, {.flags = RTE_TCP_SYN_FLAG}).bytes(),
       "gw_martian_source=1"},
      {"a fragment", from_server(kFip2, IPPROTO_UDP, 53, 80, 0, {.more_fragments = true}), "ct_fragment=1"},
      {"to another MAC", Frame().eth(kNextHopMac, kRed1.mac).ipv4(kServer, kFip2).tcp(1, 80, {.flags = RTE_TCP_SYN_FLAG}).bytes(),
       "gw_not_for_us=1"},
      {"VLAN-tagged, none bound", Frame().eth(kNextHopMac, kExtMac).vlan(100).ipv4(kServer, kFip2).udp(1, 80).bytes(),
       "gw_vlan_mismatch=1"},
      {"an ICMP redirect", Frame().eth(kNextHopMac, kExtMac).ipv4(kServer, kExtIp).icmp(5, 1).payload(28).bytes(),
       "icmp_xlate_malformed=1"},
      {"an ICMP timestamp", Frame().eth(kNextHopMac, kExtMac).ipv4(kServer, kExtIp).icmp(13, 0).payload(12).bytes(),
       "gw_stateless=1"},
      {"IPv6", Frame().eth(kNextHopMac, kExtMac).ipv6(ip6("2001:db8::1"), ip6("2001:db8::2")).udp(1, 80).bytes(),
       "gw_not_ipv4=1"},
  };
  for (const auto& c : cases) {
    const Outcome o = send(c.frame, kExtPort);
    EXPECT_TRUE(o.sent.empty()) << c.what;
    EXPECT_EQ(o.drops, c.drops) << c.what;
  }
  EXPECT_EQ(conntrack().size(), 0u) << "no forged packet left an entry";
}

TEST_F(GatewayTest, FloatingIpInboundAllowedPortOnly) {
  learn_next_hop();
  const Outcome o = send(from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG), kExtPort);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes& b = o.sent[0].bytes;
  EXPECT_EQ(mac_at(b, 0), kRed2.mac);
  EXPECT_EQ(mac_at(b, 6), kRedRouter);
  EXPECT_EQ(be32_at(b, 26), kServer) << "the port sees the outside address";
  EXPECT_EQ(be32_at(b, 30), kRed2.ip);
  EXPECT_EQ(be16_at(b, 36), 80);
  expect_checksums(b);
  // Its answer leaves from the floating IP.
  const Bytes synack = tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
  const Outcome r = send(synack, kRed2Port);
  ASSERT_TRUE(r.delivered_to(kExtPort)) << r.drops;
  EXPECT_EQ(be32_at(r.sent[0].bytes, 26), kFip2);
  EXPECT_EQ(be16_at(r.sent[0].bytes, 34), 80);
  expect_checksums(r.sent[0].bytes);
  // A port its group does not open.
  EXPECT_EQ(send(from_server(kFip2, IPPROTO_TCP, 5556, 22, RTE_TCP_SYN_FLAG), kExtPort).drops, "sg_ingress_denied=1");
}

TEST_F(GatewayTest, FloatingIpOfARemotePortIsTunnelled) {
  learn_next_hop();
  const Outcome o = send(from_server(kFip4, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG), kExtPort);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  EXPECT_EQ(be32_at(o.sent[0].bytes, 30), Topo::kVtepB);
  EXPECT_EQ(be32_at(o.sent[0].bytes, 46) >> 8, kRedVni);
  const Bytes in = inner_of(o.sent[0]);
  EXPECT_EQ(mac_at(in, 0), kRed4.mac);
  EXPECT_EQ(be32_at(in, 30), kRed4.ip);
  expect_checksums(in);
  // red-4's answer, routed on node-b and tunnelled here, leaves as the floating IP.
  const Bytes inner = Frame()
                          .eth(kRedRouter, kRedRouter)
                          .ipv4(kRed4.ip, kServer, {.ttl = 63})
                          .tcp(80, 5555, {.flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG})
                          .bytes();
  const Outcome r = send(from_node_b(inner), kUnderlayPort);
  ASSERT_TRUE(r.delivered_to(kExtPort)) << r.drops;
  EXPECT_EQ(be32_at(r.sent[0].bytes, 26), kFip4);
  expect_checksums(r.sent[0].bytes);
}

TEST_F(GatewayTest, OutboundOfAFloatingIpPortLeavesAsIt) {
  learn_next_hop();
  const Outcome o = send(to_server(kRed2, kRedRouter, 43000), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  EXPECT_EQ(be32_at(o.sent[0].bytes, 26), kFip2);
  EXPECT_EQ(be16_at(o.sent[0].bytes, 34), 43000) << "1:1: ports kept";
  expect_checksums(o.sent[0].bytes);
  const Outcome r = send(from_server(kFip2, IPPROTO_UDP, 53, 43000), kExtPort);
  EXPECT_TRUE(r.delivered_to(kRed2Port)) << r.drops;
}

TEST_F(GatewayTest, SnatSurvivesAnUnrelatedChange) {
  learn_next_hop();
  const uint16_t port = snat(to_server(kRed1, kRedRouter, 40000), kRed1Port, kRed1);
  apply(gateway_policy(true, "  - {name: red-5, network: red, subnet: priv, node: node-b, ip: 10.0.1.15}\n"));
  const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, port), kExtPort);
  EXPECT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
  const Outcome o = send(to_server(kRed1, kRedRouter, 40000), kRed1Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  EXPECT_EQ(be16_at(o.sent[0].bytes, 34), port) << "the same mapping";
}

TEST_F(GatewayTest, RemovingAFloatingIpCutsItsConnections) {
  learn_next_hop();
  ASSERT_TRUE(send(from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG), kExtPort).delivered_to(kRed2Port));
  const Bytes synack = tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
  ASSERT_TRUE(send(synack, kRed2Port).delivered_to(kExtPort));
  ASSERT_TRUE(send(from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_ACK_FLAG), kExtPort).delivered_to(kRed2Port));
  apply(gateway_policy(false));
  // New and existing inbound: the address is no longer the gateway's.
  EXPECT_EQ(send(from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_ACK_FLAG), kExtPort).drops,
            "gw_unknown_destination=1");
  EXPECT_EQ(send(from_server(kFip2, IPPROTO_TCP, 6666, 80, RTE_TCP_SYN_FLAG), kExtPort).drops,
            "gw_unknown_destination=1");
  // The port's side of the connection is cut, and stays cut.
  const Bytes ack = tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_ACK_FLAG);
  EXPECT_EQ(send(ack, kRed2Port).drops, "gw_binding_gone=1");
  EXPECT_EQ(send(ack, kRed2Port).drops, "ct_cut=1");
}

TEST_F(GatewayTest, AVlanBindingTagsEverythingOnTheExternalPort) {
  vlan_ = 100;
  apply(gateway_policy());
  // ARP, tagged: answered tagged.
  const Bytes req = Frame()
                        .eth(kNextHopMac, Topo::kBroadcast)
                        .vlan(100)
                        .arp({.sha = kNextHopMac, .spa = kNextHop, .tpa = kExtIp})
                        .bytes();
  const Outcome a = send(req, kExtPort);
  ASSERT_TRUE(a.delivered_to(kExtPort)) << a.drops;
  EXPECT_EQ(be16_at(a.sent[0].bytes, 12), RTE_ETHER_TYPE_VLAN);
  EXPECT_EQ(be16_at(a.sent[0].bytes, 14) & 0xfff, 100);
  EXPECT_EQ(be16_at(a.sent[0].bytes, 16), RTE_ETHER_TYPE_ARP);
  EXPECT_EQ(mac_at(a.sent[0].bytes, 18 + 8), kExtMac);
  // Untagged, or another VLAN: not ours.
  const Bytes untagged = Frame().eth(kNextHopMac, Topo::kBroadcast).arp({.sha = kNextHopMac, .spa = kNextHop, .tpa = kExtIp}).bytes();
  EXPECT_EQ(send(untagged, kExtPort).drops, "gw_vlan_mismatch=1");
  const Bytes other = Frame().eth(kNextHopMac, kExtMac).vlan(101).ipv4(kServer, kFip2).udp(1, 80).bytes();
  EXPECT_EQ(send(other, kExtPort).drops, "gw_vlan_mismatch=1");

  // SNAT out, tagged, with the IP packet intact behind the tag.
  learn_next_hop();
  const Outcome o = send(to_server(kRed1, kRedRouter, 40000), kRed1Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Bytes& b = o.sent[0].bytes;
  EXPECT_EQ(be16_at(b, 12), RTE_ETHER_TYPE_VLAN);
  EXPECT_EQ(be16_at(b, 14) & 0xfff, 100);
  EXPECT_EQ(be16_at(b, 16), RTE_ETHER_TYPE_IPV4);
  EXPECT_EQ(be32_at(b, 18 + 12), kExtIp);
  expect_checksums(b, 18);
  // Its tagged reply comes back untagged to the VM.
  const Bytes reply = Frame()
                          .eth(kNextHopMac, kExtMac)
                          .vlan(100)
                          .ipv4(kServer, kExtIp)
                          .udp(53, be16_at(b, 18 + 20))
                          .payload(16)
                          .bytes();
  const Outcome r = send(reply, kExtPort);
  ASSERT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
  EXPECT_EQ(be16_at(r.sent[0].bytes, 12), RTE_ETHER_TYPE_IPV4);
  EXPECT_EQ(be32_at(r.sent[0].bytes, 30), kRed1.ip);
  expect_checksums(r.sent[0].bytes);
}

// ICMP errors through the NAT (RFC 5508): errors about a translated
// connection cross the translation, quote included; others are counted.

const uint32_t kHop = ip4("198.51.100.1");  // a router beyond the next hop

// An ICMP error from `from` to `to` arriving on the external port, quoting
// the first `quote_len` bytes of the IP packet `quoted` (from its IP header).
Bytes error_from_outside(uint32_t from, uint32_t to, uint8_t type, uint8_t code, std::span<const uint8_t> quoted,
                         size_t quote_len, uint16_t mtu = 0) {
  return Frame()
      .eth(kNextHopMac, kExtMac)
      .ipv4(from, to)
      .icmp(type, code, 0, mtu)
      .payload(Bytes(quoted.begin(), quoted.begin() + static_cast<ptrdiff_t>(quote_len)))
      .bytes();
}

// The IP packet of a frame (from its IP header at `l3`).
std::span<const uint8_t> ip_of(const Bytes& frame, size_t l3 = 14) { return std::span(frame).subspan(l3); }

// An ICMP error frame's checksums: outer IPv4, the whole ICMP message, the
// quoted IPv4 header.
void expect_error_checksums(const Bytes& b, size_t l3 = 14) {
  EXPECT_EQ(inet_checksum(std::span(b).subspan(l3, 20)), 0) << "outer IPv4 checksum";
  const size_t len = be16_at(b, l3 + 2) - 20u;
  EXPECT_EQ(inet_checksum(std::span(b).subspan(l3 + 20, len)), 0) << "ICMP checksum";
  EXPECT_EQ(inet_checksum(std::span(b).subspan(l3 + 28, 20)), 0) << "quoted IPv4 checksum";
}

// The quote of error `b` (outer IP at `l3`) against the packet `sent` as
// its sender sent it: the same addresses, ports and first `l4_bytes` bytes
// of the transport header (its checksum among them), the same IP header
// but for the TTL (one router later) and the header checksum.
void expect_quote_is(const Bytes& b, const Bytes& sent, size_t l4_bytes, size_t l3 = 14) {
  const size_t q = l3 + 28;
  EXPECT_EQ(be32_at(b, q + 12), be32_at(sent, 26)) << "quoted source";
  EXPECT_EQ(be32_at(b, q + 16), be32_at(sent, 30)) << "quoted destination";
  for (size_t i = 0; i < l4_bytes; ++i) EXPECT_EQ(b[q + 20 + i], sent[34 + i]) << "quoted L4 byte " << i;
}

TEST_F(GatewayTest, ErrorsAboutSnatConnectionsReachTheVm) {
  learn_next_hop();
  struct Case {
    const char* what;
    Bytes sent;      // as red-1 sends it
    size_t l4_quoted;  // transport bytes the error quotes
  };
  const Case cases[] = {
      {"UDP", to_server(kRed1, kRedRouter, 40000), 8},
      {"TCP, header quoted whole", tcp_frame(kRed1, Addr{kRedRouter, kServer}, 41000, 443, RTE_TCP_SYN_FLAG, 10), 20},
      {"TCP, 8 bytes quoted", tcp_frame(kRed1, Addr{kRedRouter, kServer}, 41001, 443, RTE_TCP_SYN_FLAG, 10), 8},
      {"ICMP echo", icmp_frame(kRed1, Addr{kRedRouter, kServer}, RTE_IP_ICMP_ECHO_REQUEST, 0, 777), 8},
  };
  for (const Case& c : cases) {
    const Outcome o = send(c.sent, kRed1Port);
    ASSERT_TRUE(o.delivered_to(kExtPort)) << c.what << ": " << o.drops;
    const Bytes& out = o.sent[0].bytes;
    // Time exceeded from a router beyond, and fragmentation needed from
    // the server itself.
    for (const auto& [from, type, code, mtu] : {std::tuple{kHop, uint8_t{11}, uint8_t{0}, uint16_t{0}},
                                                std::tuple{kServer, uint8_t{3}, uint8_t{4}, uint16_t{1280}}}) {
      const Outcome e = send(error_from_outside(from, kExtIp, type, code, ip_of(out), 20 + c.l4_quoted, mtu), kExtPort);
      ASSERT_TRUE(e.delivered_to(kRed1Port)) << c.what << ": " << e.drops;
      const Bytes& b = e.sent[0].bytes;
      EXPECT_EQ(mac_at(b, 0), kRed1.mac);
      EXPECT_EQ(mac_at(b, 6), kRedRouter);
      EXPECT_EQ(be32_at(b, 26), from) << c.what << ": the reporting router keeps its address";
      EXPECT_EQ(be32_at(b, 30), kRed1.ip) << c.what;
      EXPECT_EQ(b[34], type);
      EXPECT_EQ(b[35], code);
      EXPECT_EQ(be16_at(b, 40), mtu) << "the next-hop MTU is kept";
      expect_error_checksums(b);
      expect_quote_is(b, c.sent, c.l4_quoted);
    }
  }
}

// A cache hit writes no conntrack disposition: whatever an mbuf's metadata
// held from its last use (an error's RELATED, say) must not make a
// translated packet look like an error.
TEST_F(GatewayTest, ACacheHitIsNoErrorWhateverItsMbufHeld) {
  learn_next_hop();
  const Bytes out = to_server(kRed1, kRedRouter, 40000);
  const Outcome first = send(out, kRed1Port);
  ASSERT_TRUE(first.delivered_to(kExtPort)) << first.drops;
  clear();
  run(out, {.in_port = kRed1Port, .prepare = [](dp::PktMeta& md) { md.ct = dp::ct_meta(dp::CtDisposition::kRelated); }});
  ASSERT_EQ(sent().size(), 1u) << drop_summary();
  EXPECT_TRUE(same_packet(sent()[0].bytes, first.sent[0].bytes));
}

TEST_F(GatewayTest, ErrorsAboutARemoteVmsSnatAreTunnelled) {
  learn_next_hop();
  const Bytes inner = Frame()
                          .eth(kRedRouter, kRedRouter)
                          .ipv4(kRed3.ip, kServer, {.ttl = 63})
                          .udp(42000, 53)
                          .payload(16)
                          .bytes();
  const Outcome o = send(from_node_b(inner), kUnderlayPort);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Outcome e = send(error_from_outside(kHop, kExtIp, 11, 0, ip_of(o.sent[0].bytes), 28), kExtPort);
  ASSERT_TRUE(e.delivered_to(kUnderlayPort)) << e.drops;
  EXPECT_EQ(be32_at(e.sent[0].bytes, 30), Topo::kVtepB);
  EXPECT_EQ(be32_at(e.sent[0].bytes, 46) >> 8, kRedVni);
  const Bytes in = inner_of(e.sent[0]);
  EXPECT_EQ(mac_at(in, 0), kRed3.mac);
  EXPECT_EQ(be32_at(in, 26), kHop);
  EXPECT_EQ(be32_at(in, 30), kRed3.ip);
  expect_error_checksums(in);
  expect_quote_is(in, inner, 8);
}

TEST_F(GatewayTest, ErrorsAboutFloatingIpConnectionsBothWays) {
  learn_next_hop();
  // red-2's own connection out, as its floating IP.
  const Bytes out = to_server(kRed2, kRedRouter, 43000);
  const Outcome o = send(out, kRed2Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  Outcome e = send(error_from_outside(kHop, kFip2, 3, 4, ip_of(o.sent[0].bytes), 28, 1400), kExtPort);
  ASSERT_TRUE(e.delivered_to(kRed2Port)) << e.drops;
  EXPECT_EQ(be32_at(e.sent[0].bytes, 30), kRed2.ip);
  expect_error_checksums(e.sent[0].bytes);
  expect_quote_is(e.sent[0].bytes, out, 8);

  // A connection in to the floating IP: red-2's answer, leaving as the
  // floating IP, draws an error from a router outside...
  const Bytes syn = from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG);
  const Outcome in = send(syn, kExtPort);
  ASSERT_TRUE(in.delivered_to(kRed2Port)) << in.drops;
  const Bytes synack = tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
  const Outcome back = send(synack, kRed2Port);
  ASSERT_TRUE(back.delivered_to(kExtPort)) << back.drops;
  e = send(error_from_outside(kHop, kFip2, 3, 4, ip_of(back.sent[0].bytes), 40, 1400), kExtPort);
  ASSERT_TRUE(e.delivered_to(kRed2Port)) << e.drops;
  EXPECT_EQ(be32_at(e.sent[0].bytes, 26), kHop);
  EXPECT_EQ(be32_at(e.sent[0].bytes, 30), kRed2.ip);
  expect_error_checksums(e.sent[0].bytes);
  expect_quote_is(e.sent[0].bytes, synack, 20);

  // ... and red-2's own error about the inbound connection leaves as the
  // floating IP, quoting what the server sent.
  const Bytes delivered = in.sent[0].bytes;
  const Bytes unreachable = Frame()
                                .eth(kRed2.mac, kRedRouter)
                                .ipv4(kRed2.ip, kServer)
                                .icmp(3, 3)
                                .payload(Bytes(delivered.begin() + 14, delivered.begin() + 14 + 28))
                                .bytes();
  e = send(unreachable, kRed2Port);
  ASSERT_TRUE(e.delivered_to(kExtPort)) << e.drops;
  const Bytes& b = e.sent[0].bytes;
  EXPECT_EQ(mac_at(b, 0), kNextHopMac);
  EXPECT_EQ(be32_at(b, 26), kFip2) << "from the floating IP, not the private address";
  EXPECT_EQ(be32_at(b, 30), kServer);
  expect_error_checksums(b);
  expect_quote_is(b, syn, 8);
}

TEST_F(GatewayTest, TheGatewayReportsToTheOutsideFromItsExternalIp) {
  learn_next_hop();
  // TTL spent at the gateway: time exceeded, quoting the packet as it came.
  const Bytes last_hop = from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG, {.ttl = 1});
  Outcome o = send(last_hop, kExtPort);
  EXPECT_EQ(o.drops, "l3_ttl_exceeded=1");
  ASSERT_TRUE(o.delivered_to(kExtPort));
  Bytes b = o.sent[0].bytes;
  EXPECT_EQ(mac_at(b, 0), kNextHopMac);
  EXPECT_EQ(mac_at(b, 6), kExtMac);
  EXPECT_EQ(be32_at(b, 26), kExtIp);
  EXPECT_EQ(be32_at(b, 30), kServer);
  EXPECT_EQ(b[34], 11);
  expect_error_checksums(b);
  EXPECT_EQ(be32_at(b, 42 + 16), kFip2) << "quoted untranslated";
  // Larger than the served network's MTU, DF set: fragmentation needed.
  const Bytes big = Frame()
                        .eth(kNextHopMac, kExtMac)
                        .ipv4(kServer, kFip2, {.dont_fragment = true})
                        .tcp(5556, 80, {.flags = RTE_TCP_SYN_FLAG})
                        .payload(1500)
                        .bytes();
  o = send(big, kExtPort);
  EXPECT_EQ(o.drops, "l3_mtu_exceeded=1");
  ASSERT_TRUE(o.delivered_to(kExtPort));
  b = o.sent[0].bytes;
  EXPECT_EQ(be32_at(b, 26), kExtIp);
  EXPECT_EQ(b[34], 3);
  EXPECT_EQ(b[35], 4);
  EXPECT_EQ(be16_at(b, 40), 1450) << "the network's MTU";
  expect_error_checksums(b);
}

TEST_F(GatewayTest, ErrorsAboutNothingOrUnreadableAreCounted) {
  learn_next_hop();
  const Outcome o = send(to_server(kRed1, kRedRouter, 40000), kRed1Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  const Bytes out = o.sent[0].bytes;
  // The same quote with another SNAT port: no connection holds it.
  Bytes other = out;
  other[34] ^= 0x40;
  const Bytes quote_cut_at_the_ports(out.begin() + 14, out.begin() + 14 + 22);
  Bytes bad_sum = error_from_outside(kHop, kExtIp, 11, 0, ip_of(out), 28);
  bad_sum[36] ^= 0xff;
  const struct {
    const char* what;
    Bytes frame;
    std::string drops;
  } cases[] = {
      {"about no connection", error_from_outside(kHop, kExtIp, 11, 0, ip_of(other), 28), "gw_icmp_untracked=1"},
      {"the quote cut inside its IP header", error_from_outside(kHop, kExtIp, 11, 0, ip_of(out), 12),
       "icmp_xlate_malformed=1"},
      {"the quote cut inside its ports", error_from_outside(kHop, kExtIp, 11, 0, ip_of(out), 22),
       "icmp_xlate_malformed=1"},
      {"quoting a packet we never sent", error_from_outside(kHop, kExtIp, 3, 1, ip_of(from_server(kExtIp, IPPROTO_UDP, 1, 2)), 28),
       "icmp_xlate_malformed=1"},
      {"a wrong ICMP checksum", bad_sum, "icmp_xlate_bad_checksum=1"},
  };
  for (const auto& c : cases) {
    const Outcome e = send(c.frame, kExtPort);
    EXPECT_TRUE(e.sent.empty()) << c.what;
    EXPECT_EQ(e.drops, c.drops) << c.what;
  }
  // The connection is untouched: its reply still comes through.
  const Outcome r = send(from_server(kExtIp, IPPROTO_UDP, 53, be16_at(out, 34)), kExtPort);
  EXPECT_TRUE(r.delivered_to(kRed1Port)) << r.drops;
}

// The gateway's drops that only unusual tables or mbufs reach.

// A floating IP added to a port that already has an SNAT connection to the
// same peer and ports: the peer's new connection to the floating IP would
// be translated to that connection's own tuple.
TEST_F(GatewayTest, AFloatingIpConnectionOnAnSnatConnectionsTupleClashes) {
  learn_next_hop();
  apply(gateway_policy(false));
  const Bytes syn = tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_SYN_FLAG);
  const Outcome o = send(syn, kRed2Port);
  ASSERT_TRUE(o.delivered_to(kExtPort)) << o.drops;
  EXPECT_EQ(be32_at(o.sent[0].bytes, 26), kExtIp) << "no floating IP yet: SNAT";
  apply(gateway_policy(true));
  const uint64_t clashes = conntrack().stats().xlate_clash.get();
  EXPECT_EQ(send(from_server(kFip2, IPPROTO_TCP, 5555, 80, RTE_TCP_SYN_FLAG), kExtPort).drops, "gw_xlate_clash=1");
  EXPECT_EQ(conntrack().stats().xlate_clash.get(), clashes + 1);
  // The SNAT connection goes on.
  EXPECT_TRUE(send(tcp_frame(kRed2, Addr{kRedRouter, kServer}, 80, 5555, RTE_TCP_SYN_FLAG), kRed2Port).delivered_to(kExtPort));
}

// Tables that route a network to the gateway without the gateway serving it
// (the compiler never makes them; a controller's tables might).
TEST_F(GatewayTest, ANetworkTheGatewayDoesNotServeIsRefused) {
  learn_next_hop();
  Diagnostics diags;
  auto model = policy::load_policy_text(gateway_policy(), "gw.yaml", diags);
  ASSERT_TRUE(model.has_value()) << diags.format();
  proto::NodeTables tables = policy::compile_node(*model, "node-a");
  ASSERT_EQ(tables.gateways_size(), 1);
  auto* served = tables.mutable_gateways(0)->mutable_networks();
  served->erase(std::remove(served->begin(), served->end(), "blue"), served->end());
  apply_tables(tables);
  EXPECT_EQ(send(to_server(kBlue1, kBlueRouter, 40000), kBlue1Port).drops, "gw_not_served=1");
  EXPECT_TRUE(send(to_server(kRed1, kRedRouter, 40000), kRed1Port).delivered_to(kExtPort));
}

TEST_F(GatewayTest, NoHeadroomForTheVlanTag) {
  vlan_ = 100;
  apply(gateway_policy());
  learn_next_hop();
  const Bytes frame = to_server(kRed1, kRedRouter, 40000);
  rte_mbuf* m = rte_pktmbuf_alloc(packet_pool());
  ASSERT_NE(m, nullptr);
  m->data_off = 0;
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  rte_mbuf* const burst[] = {m};
  clear();
  run_mbufs(burst, {.in_port = kRed1Port});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drop_summary(), "gw_no_headroom=1");
}

// node-a without the gateway: the same policy with the gateway on node-b.
// A VM here hears the errors the gateway node translated and tunnelled
// back, from whichever router beyond it made them.
class GatewayElsewhereTest : public FlowCacheFixture {
 protected:
  void SetUp() override {
    build_graph(4096);
    std::string yaml = gateway_policy();
    yaml.replace(yaml.find("node: node-a\n    external_cidr"), 12, "node: node-b");
    apply(yaml);
    at(1);
  }
};

TEST_F(GatewayElsewhereTest, ErrorsFromBeyondTheGatewayReachTheVm) {
  const Bytes out = udp_frame(kRed1, Addr{kRedRouter, kServer}, 40000, 53);
  const Outcome o = send(out, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  ASSERT_EQ(be32_at(o.sent[0].bytes, 30), Topo::kVtepB) << "to the gateway's node";
  const Bytes sent = inner_of(o.sent[0]);
  auto error_from = [&](uint32_t hop, const Mac& src = kRedRouter) {
    return from_node_b(Frame()
                           .eth(src, kRed1.mac)
                           .ipv4(hop, kRed1.ip)
                           .icmp(11, 0)
                           .payload(Bytes(sent.begin() + 14, sent.begin() + 14 + 28))
                           .bytes());
  };
  const Outcome e = send(error_from(kHop), kUnderlayPort);
  ASSERT_TRUE(e.delivered_to(kRed1Port)) << e.drops;
  EXPECT_EQ(be32_at(e.sent[0].bytes, 26), kHop);
  // A VM of the network is no router beyond the gateway.
  EXPECT_EQ(send(error_from(kRed3.ip, kRed3.mac), kUnderlayPort).drops, "ct_related_mismatch=1");
}

TEST(GatewayBuild, BindingAndGatewayMustGoTogether) {
  Diagnostics diags;
  auto with = policy::load_policy_text(gateway_policy(), "gw.yaml", diags);
  ASSERT_TRUE(with) << diags.format();
  std::string error;
  // A gateway here, no external port in node.yaml.
  EXPECT_EQ(dp::build_snapshot(policy::compile_node(*with, "node-a"), overlay_base(), error), nullptr);
  EXPECT_NE(error.find("gateway 'edge' is hosted on node 'node-a', but node.yaml binds no external port"),
            std::string::npos)
      << error;
  // An external port, no gateway here.
  auto without = policy::load_policy_text(sg_policy(), "sg.yaml", diags);
  ASSERT_TRUE(without) << diags.format();
  auto base = overlay_base();
  base->ports[kExtPort] = {dp::PortRole::kExternal, dp::VnicKind::kDpdk, "external"};
  base->external_port = kExtPort;
  error.clear();
  EXPECT_EQ(dp::build_snapshot(policy::compile_node(*without, "node-a"), std::move(base), error), nullptr);
  EXPECT_NE(error.find("node.yaml binds an external port, but the policy hosts no gateway"), std::string::npos)
      << error;
}

// Two workers (handoff/conn_owner.h, gateway/nat.h): the reply of a
// translated connection, as the outside sends it, names the worker that
// holds the connection, for SNAT (whose port the binding worker picks so)
// and floating IPs (whose address the owner undoes), whichever worker
// each packet arrives on.
class GatewayWorkersTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    workers_.build(4096, dp::HandoffMesh::kDefaultRingSize);
    learn_next_hop();
  }
  void TearDown() override {
    workers_.reset();
    GatewayTest::TearDown();
  }
  Handled arrive(unsigned w, const Bytes& frame, uint16_t in_port) {
    return workers_.arrive(w, frame, in_port, snapshot(), now());
  }
  unsigned owner(const Bytes& frame, uint32_t vni) { return WorkerPair::owner_of(snapshot(), frame, vni); }
  // How many connections each worker's table holds.
  std::array<size_t, WorkerPair::kWorkers> sizes() { return {workers_.table(0).size(), workers_.table(1).size()}; }

  WorkerPair workers_;
};

TEST_F(GatewayWorkersTest, SnatRepliesComeHomeToTheWorkerThatBoundThePort) {
  std::mt19937 rng(16);
  std::array<int, WorkerPair::kWorkers> owned{};
  for (int i = 0; i < 300; ++i) {
    const uint8_t proto = std::array<uint8_t, 3>{IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP}[i % 3];
    const auto sport = static_cast<uint16_t>(1024 + i * 197);  // each its own
    const auto dport = static_cast<uint16_t>(1 + rng() % 65535);
    const Addr server{kRedRouter, kServer};
    const Bytes out = proto == IPPROTO_TCP   ? tcp_frame(kRed1, server, sport, dport, RTE_TCP_SYN_FLAG)
                      : proto == IPPROTO_UDP ? udp_frame(kRed1, server, sport, dport)
                                             : icmp_frame(kRed1, server, RTE_IP_ICMP_ECHO_REQUEST, 0, sport);
    const unsigned o = owner(out, kRedVni);
    ASSERT_LT(o, WorkerPair::kWorkers);
    ++owned[o];
    const auto before = sizes();
    const unsigned w = static_cast<unsigned>(i) & 1;  // the queue the VM's frame arrives on
    Handled h = arrive(w, out, kRed1Port);
    ASSERT_TRUE(h.outcome.delivered_to(kExtPort)) << h.outcome.drops;
    EXPECT_EQ(h.handed, w == o ? 0u : 1u);
    const Bytes b = h.outcome.sent[0].bytes;  // a copy: h is reassigned below
    ASSERT_EQ(be32_at(b, 26), kExtIp);
    const uint16_t port = be16_at(b, proto == IPPROTO_ICMP ? 38 : 34);  // ICMP: the echo identifier
    EXPECT_GE(port, dp::ExternalIdentity::kDefaultPortLo);
    const auto after = sizes();
    EXPECT_EQ(after[o], before[o] + 1) << "held by its owner";
    EXPECT_EQ(after[o ^ 1], before[o ^ 1]);

    // The reply as the server sends it, to the SNAT address and port.
    const Bytes reply = proto == IPPROTO_ICMP
                            ? Frame().eth(kNextHopMac, kExtMac).ipv4(kServer, kExtIp).icmp(RTE_IP_ICMP_ECHO_REPLY, 0, port, 1).payload(16).bytes()
                            : from_server(kExtIp, proto, dport, port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    EXPECT_EQ(owner(reply, 0), o) << "protocol " << int(proto) << ", SNAT port " << port;
    h = arrive(w ^ 1, reply, kExtPort);  // on the other queue
    ASSERT_TRUE(h.outcome.delivered_to(kRed1Port))
        << h.outcome.drops << ": protocol " << int(proto) << " from " << sport << " to " << dport << " as " << port
        << ", owner " << o << ", arrived on " << w;
    EXPECT_EQ(be32_at(h.outcome.sent[0].bytes, 30), kRed1.ip);
    if (proto != IPPROTO_ICMP) {
      EXPECT_EQ(be16_at(h.outcome.sent[0].bytes, 36), sport);
    }
    EXPECT_EQ(sizes(), after) << "the reply found its connection";

    // A router's error about the packet as it left, which quotes the
    // SNAT port: to the same worker, and on to red-1.
    const Bytes error = error_from_outside(ip4("198.51.100.1"), kExtIp, 11, 0, ip_of(b), 28, 0);
    EXPECT_EQ(owner(error, 0), o);
    h = arrive(w ^ 1, error, kExtPort);
    ASSERT_TRUE(h.outcome.delivered_to(kRed1Port)) << h.outcome.drops;
    EXPECT_EQ(be32_at(h.outcome.sent[0].bytes, 30), kRed1.ip);
  }
  EXPECT_GT(owned[0], 100);
  EXPECT_GT(owned[1], 100);
}

TEST_F(GatewayWorkersTest, FloatingIpConnectionsBothWaysHaveOneOwner) {
  std::mt19937 rng(17);
  for (int i = 0; i < 100; ++i) {
    // Peers all over the outside, from ports of their own.
    const uint32_t peer = ip4("198.51.100.0") + 2 + static_cast<uint32_t>(rng() % 250);
    const auto client = static_cast<uint16_t>(1024 + i * 389);
    const unsigned w = static_cast<unsigned>(i) & 1;
    // In from the outside to red-2's floating IP ...
    const Bytes syn = Frame().eth(kNextHopMac, kExtMac).ipv4(peer, kFip2).tcp(client, 80, {.flags = RTE_TCP_SYN_FLAG}).bytes();
    const Bytes synack = tcp_frame(kRed2, Addr{kRedRouter, peer}, 80, client, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    const unsigned o = owner(syn, 0);
    EXPECT_EQ(owner(synack, kRedVni), o);
    const auto before = sizes();
    Handled h = arrive(w, syn, kExtPort);
    ASSERT_TRUE(h.outcome.delivered_to(kRed2Port)) << h.outcome.drops;
    h = arrive(w ^ 1, synack, kRed2Port);
    ASSERT_TRUE(h.outcome.delivered_to(kExtPort)) << h.outcome.drops << ": peer " << peer << ", owner " << o;
    EXPECT_EQ(be32_at(h.outcome.sent[0].bytes, 26), kFip2);
    EXPECT_EQ(sizes()[o], before[o] + 1);
    EXPECT_EQ(sizes()[o ^ 1], before[o ^ 1]);

    // ... and out from red-2, leaving as its floating IP.
    const auto port = static_cast<uint16_t>(1 + rng() % 65535);
    const Bytes out = udp_frame(kRed2, Addr{kRedRouter, peer}, client, port);
    const Bytes back = Frame().eth(kNextHopMac, kExtMac).ipv4(peer, kFip2).udp(port, client).payload(16).bytes();
    EXPECT_EQ(owner(back, 0), owner(out, kRedVni));
    h = arrive(w, out, kRed2Port);
    ASSERT_TRUE(h.outcome.delivered_to(kExtPort)) << h.outcome.drops;
    h = arrive(w ^ 1, back, kExtPort);
    ASSERT_TRUE(h.outcome.delivered_to(kRed2Port)) << h.outcome.drops;
  }
}

// A protocol without ports is translated by address alone, so nothing but
// the protocol survives both ways: on a node with a gateway, one worker
// owns all of its connections.
TEST_F(GatewayWorkersTest, AProtocolWithoutPortsHasOneOwner) {
  const Bytes gre = Frame().eth(kRed1.mac, kRedRouter).ipv4(kRed1.ip, kServer, {.proto = 47}).payload(24).bytes();
  const Bytes gre_back = Frame().eth(kNextHopMac, kExtMac).ipv4(kServer, kExtIp, {.proto = 47}).payload(24).bytes();
  const Bytes gre_red3 = Frame().eth(kRed3.mac, kRedRouter).ipv4(kRed3.ip, ip4("198.51.100.99"), {.proto = 47}).payload(24).bytes();
  const unsigned o = owner(gre, kRedVni);
  EXPECT_EQ(owner(gre_back, 0), o);
  EXPECT_EQ(owner(gre_red3, kRedVni), o);
  Handled h = arrive(o ^ 1, gre, kRed1Port);
  ASSERT_TRUE(h.outcome.delivered_to(kExtPort)) << h.outcome.drops;
  EXPECT_EQ(be32_at(h.outcome.sent[0].bytes, 26), kExtIp);
  h = arrive(o ^ 1, gre_back, kExtPort);
  ASSERT_TRUE(h.outcome.delivered_to(kRed1Port)) << h.outcome.drops;
}

}  // namespace
}  // namespace weft::test
