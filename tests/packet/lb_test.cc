// The load balancer through weftd's policy-mode graph on node-a
// (flowcache_fixture.h's node, with a load balancer in network red):
// DNAT to the backend and back to the VIP with every checksum right, a
// cache hit that leaves the same bytes, connections that keep their
// backend across snapshots, a removed backend's connections dropped and
// counted, hairpin, and the security groups judged at both ends against
// what each end sees.
//
//   network red (VNI 1001) 10.0.1.0/24, router MAC 0a:00:00:00:03:e9
//     red-1  node-a port 1  10.0.1.10  [client]  the client
//     red-2  node-a port 2  10.0.1.12  [srv]     a local backend
//     red-3  node-b         10.0.1.11  [srv]     a remote backend
//   web-lb  VIP 10.0.1.100, tcp 80 -> 8080, udp 53 -> 5353

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_tcp.h>

#include <array>
#include <map>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/lb/probe_channel.h"
#include "dataplane/lb/probe_frame.h"
#include "dataplane/lb/probe_reply_stage.h"
#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/stats/counters.h"
#include "tests/packet/worker_pair.h"

namespace weft::test {
namespace {

constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG;
constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kAck = RTE_TCP_ACK_FLAG;

const Topo T;
const Mac kRedRouter = mac("0a:00:00:00:03:e9");  // router_mac(1001)
const uint32_t kVip = ip4("10.0.1.100");
const Addr kVipAddr{kRedRouter, kVip};  // as a client addresses it (ARP: the router MAC)

// `backends`: the YAML list; `client_egress`: the client group's egress rules.
std::string lb_policy(const std::string& backends = "[{port: red-2}, {port: red-3}]",
                      const std::string& client_egress = "[{protocol: tcp, ports: 80, to: 10.0.1.100/32}, "
                                                         "{protocol: udp, ports: 53, to: 10.0.1.100/32}]",
                      const std::string& srv_ports = "8080") {
  return R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
ports:
  - {name: red-1, network: red, subnet: s, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a",
     security_groups: [client]}
  - {name: red-2, network: red, subnet: s, node: node-a, ip: 10.0.1.12, mac: "02:00:00:00:01:0c",
     security_groups: [srv]}
  - {name: red-3, network: red, subnet: s, node: node-b, ip: 10.0.1.11, mac: "02:00:00:00:01:0b",
     security_groups: [srv]}
security_groups:
  - name: client
    egress: )" + client_egress +
         R"(
  - name: srv
    ingress:
      - {protocol: tcp, ports: ")" + srv_ports +
         R"(", from: 10.0.1.0/24}
      - {protocol: udp, ports: 5353, from: 10.0.1.0/24}
load_balancers:
  - name: web-lb
    network: red
    vip: 10.0.1.100
    listeners:
      - {protocol: tcp, port: 80, target_port: 8080}
      - {protocol: udp, port: 53, target_port: 5353}
    backends: )" + backends +
         R"(
)";
}

// The TCP or UDP segment of an Ethernet frame `b` (an IPv4 packet at
// offset 14) behind its pseudo header: what the L4 checksum covers.
Bytes pseudo_and_segment(const Bytes& b) {
  constexpr size_t kIp = 14;
  const size_t ihl = (b[kIp] & 0xf) * 4u;
  const size_t total = be16_at(b, kIp + 2);
  const size_t l4 = kIp + ihl;
  Bytes pseudo(b.begin() + kIp + 12, b.begin() + kIp + 20);
  pseudo.push_back(0);
  pseudo.push_back(b[kIp + 9]);
  const auto len = static_cast<uint16_t>(total - ihl);
  pseudo.push_back(static_cast<uint8_t>(len >> 8));
  pseudo.push_back(static_cast<uint8_t>(len));
  pseudo.insert(pseudo.end(), b.begin() + static_cast<long>(l4), b.begin() + static_cast<long>(kIp + total));
  return pseudo;
}

// The IPv4 header checksum and the TCP or UDP checksum (with its pseudo
// header) of an Ethernet frame `b` are right.
void expect_checksums(const Bytes& b) {
  constexpr size_t kIp = 14;
  ASSERT_GE(b.size(), kIp + 20);
  const size_t ihl = (b[kIp] & 0xf) * 4u;
  EXPECT_EQ(inet_checksum(std::span(b).subspan(kIp, ihl)), 0) << "IPv4 header checksum";
  EXPECT_EQ(inet_checksum(pseudo_and_segment(b)), 0) << "L4 checksum";
}

struct Tuple {
  uint32_t src, dst;
  uint16_t sport, dport;
};
Tuple tuple_of(const Bytes& b) {
  return {be32_at(b, 14 + 12), be32_at(b, 14 + 16), be16_at(b, 34), be16_at(b, 36)};
}

class LbTest : public FlowCacheFixture {
 protected:
  void SetUp() override {
    FlowCacheFixture::SetUp();
    apply(lb_policy());
  }
  // red-1 -> VIP:80.
  Outcome client(uint16_t sport, uint8_t flags, uint16_t vport = 80) {
    return send(tcp_frame(T.kRed1, kVipAddr, sport, vport, flags, 32), kRed1Port);
  }
  // The backend's answer to red-1 (a local one, or red-3 behind node-b).
  Outcome answer(const Addr& backend, uint16_t sport, uint8_t flags) {
    const Bytes f = tcp_frame(backend, T.kRed1, 8080, sport, flags, 32);
    return backend.ip == T.kRed2.ip ? send(f, kRed2Port) : send(from_node_b(f), kUnderlayPort);
  }
  // The backend a connection went to, by where its first packet left.
  const Addr& backend_of(const Outcome& o) {
    EXPECT_EQ(o.sent.size(), 1u) << o.drops;
    return !o.sent.empty() && o.sent[0].port == kRed2Port ? T.kRed2 : T.kRed3;
  }
  // The frame as the backend sees it.
  static Bytes arrived(const Captured& c) { return c.port == kUnderlayPort ? inner_of(c) : c.bytes; }
};

TEST_F(LbTest, NewConnectionIsTranslatedToTheBackendAndRepliesBackToTheVip) {
  apply(lb_policy("[{port: red-2}]"));
  Outcome o = client(40000, kSyn);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes in = o.sent[0].bytes;  // a copy: o is reassigned below
  EXPECT_EQ(mac_at(in, 0), T.kRed2.mac);
  EXPECT_EQ(mac_at(in, 6), kRedRouter);
  const Tuple t = tuple_of(in);
  EXPECT_EQ(t.src, T.kRed1.ip) << "the backend sees the client's real address";
  EXPECT_EQ(t.sport, 40000);
  EXPECT_EQ(t.dst, T.kRed2.ip);
  EXPECT_EQ(t.dport, 8080) << "the listener's target port";
  EXPECT_EQ(in[14 + 8], 63) << "routed: TTL one less";
  expect_checksums(in);
  EXPECT_EQ(conntrack().stats().translated.get(), 1u);

  o = answer(T.kRed2, 40000, kSynAck);
  ASSERT_TRUE(o.delivered_to(kRed1Port)) << o.drops;
  const Tuple r = tuple_of(o.sent[0].bytes);
  EXPECT_EQ(r.src, kVip) << "the client sees the VIP it addressed";
  EXPECT_EQ(r.sport, 80);
  EXPECT_EQ(r.dst, T.kRed1.ip);
  EXPECT_EQ(r.dport, 40000);
  expect_checksums(o.sent[0].bytes);

  // Later packets are cache hits and leave the bytes a walk leaves.
  const uint64_t hits = conntrack().stats().hits.get();
  o = client(40000, kAck);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  EXPECT_EQ(conntrack().stats().hits.get(), hits + 1);
  Bytes walked = in;
  Bytes hit = o.sent[0].bytes;
  // Only the TCP flags (and so the checksum) differ from the SYN.
  EXPECT_EQ(tuple_of(hit).dst, T.kRed2.ip);
  EXPECT_EQ(tuple_of(hit).dport, 8080);
  EXPECT_EQ(mac_at(hit, 0), mac_at(walked, 0));
  expect_checksums(hit);
  o = answer(T.kRed2, 40000, kAck);
  ASSERT_TRUE(o.delivered_to(kRed1Port)) << o.drops;
  EXPECT_EQ(conntrack().stats().hits.get(), hits + 2);
  EXPECT_EQ(tuple_of(o.sent[0].bytes).src, kVip);
  expect_checksums(o.sent[0].bytes);
  EXPECT_EQ(conntrack().size(), 1u);
}

TEST_F(LbTest, UdpAndARemoteBackend) {
  apply(lb_policy("[{port: red-3}]"));
  Outcome o = send(udp_frame(T.kRed1, kVipAddr, 5000, 53), kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  const Bytes in = inner_of(o.sent[0]);
  EXPECT_EQ(mac_at(in, 0), T.kRed3.mac);
  const Tuple t = tuple_of(in);
  EXPECT_EQ(t.dst, T.kRed3.ip);
  EXPECT_EQ(t.dport, 5353);
  EXPECT_EQ(t.src, T.kRed1.ip);
  expect_checksums(in);

  o = send(from_node_b(udp_frame(T.kRed3, T.kRed1, 5353, 5000)), kUnderlayPort);
  ASSERT_TRUE(o.delivered_to(kRed1Port)) << o.drops;
  const Tuple r = tuple_of(o.sent[0].bytes);
  EXPECT_EQ(r.src, kVip);
  EXPECT_EQ(r.sport, 53);
  expect_checksums(o.sent[0].bytes);
}

// A translated UDP datagram whose checksum computes to zero leaves with all
// ones: zero would say it has none (RFC 768). The payload's first word is
// chosen so that the datagram as the backend receives it sums to 0xffff.
TEST_F(LbTest, ATranslatedUdpChecksumOfZeroIsSentAsAllOnes) {
  apply(lb_policy("[{port: red-3}]"));
  const auto datagram = [](const Addr& from, const Addr& to, uint16_t sport, uint16_t dport, uint16_t word) {
    Bytes payload(16, 0);
    payload[0] = static_cast<uint8_t>(word >> 8);
    payload[1] = static_cast<uint8_t>(word);
    return Frame().eth(from.mac, to.mac).ipv4(from.ip, to.ip).udp(sport, dport).payload(payload).bytes();
  };
  // The backend's view with a zero word and the checksum field zeroed:
  // its one's complement sum, and the word that tops it up to 0xffff.
  Bytes seen = datagram(T.kRed1, T.kRed3, 5000, 5353, 0);
  seen[40] = seen[41] = 0;
  const uint16_t sum = static_cast<uint16_t>(~inet_checksum(pseudo_and_segment(seen)));
  const uint16_t word = static_cast<uint16_t>(0xffff - sum);

  const Outcome o = send(datagram(T.kRed1, kVipAddr, 5000, 53, word), kRed1Port);
  ASSERT_TRUE(o.delivered_to(kUnderlayPort)) << o.drops;
  const Bytes in = inner_of(o.sent[0]);
  EXPECT_EQ(tuple_of(in).dport, 5353);
  EXPECT_EQ(be16_at(in, 40), 0xffff) << "a computed zero is sent as all ones";
  expect_checksums(in);
}

TEST_F(LbTest, ConnectionsKeepTheirBackendAcrossSnapshots) {
  std::map<uint16_t, uint32_t> got;  // client port -> backend address
  std::map<uint32_t, int> per_backend;
  for (uint16_t sport = 41000; sport < 41064; ++sport) {
    const Outcome o = client(sport, kSyn);
    const Addr& b = backend_of(o);
    EXPECT_EQ(tuple_of(arrived(o.sent[0])).dst, b.ip);
    got[sport] = b.ip;
    ++per_backend[b.ip];
    ASSERT_EQ(answer(b, sport, kSynAck).sent.size(), 1u);
  }
  EXPECT_EQ(per_backend.size(), 2u) << "64 connections over two backends of equal weight";

  // New weights change where new connections go, never where old ones are.
  apply(lb_policy("[{port: red-2, weight: 1}, {port: red-3, weight: 200}]"));
  for (const auto& [sport, ip] : got) {
    const Outcome o = client(sport, kAck);
    ASSERT_EQ(o.sent.size(), 1u) << o.drops;
    EXPECT_EQ(tuple_of(arrived(o.sent[0])).dst, ip) << "client port " << sport;
  }
  int to_red3 = 0;
  for (uint16_t sport = 42000; sport < 42064; ++sport)
    to_red3 += backend_of(client(sport, kSyn)).ip == T.kRed3.ip;
  EXPECT_GE(to_red3, 60) << "new connections follow the new weights";
}

TEST_F(LbTest, ARemovedBackendsConnectionsAreDroppedNotMoved) {
  std::map<uint16_t, uint32_t> got;
  for (uint16_t sport = 43000; sport < 43032; ++sport) {
    const Outcome o = client(sport, kSyn);
    const Addr& b = backend_of(o);
    got[sport] = b.ip;
    ASSERT_EQ(answer(b, sport, kSynAck).sent.size(), 1u);
  }
  apply(lb_policy("[{port: red-2}]"));
  int gone = 0;
  for (const auto& [sport, ip] : got) {
    const Outcome o = client(sport, kAck);
    if (ip == T.kRed2.ip) {
      EXPECT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
      continue;
    }
    ++gone;
    EXPECT_TRUE(o.sent.empty());
    EXPECT_EQ(o.drops, "lb_backend_gone=1");
    // The connection is cut: its later packets drop without a walk.
    EXPECT_EQ(client(sport, kAck).drops, "ct_cut=1");
  }
  EXPECT_GT(gone, 0);
  // A new connection goes to the backend that is left.
  EXPECT_TRUE(client(44000, kSyn).delivered_to(kRed2Port));
}

TEST_F(LbTest, ALoadBalancerRemovedWholeLeavesItsConnectionsWhereTheyAre) {
  apply(lb_policy("[{port: red-2}]"));
  ASSERT_TRUE(client(48000, kSyn).delivered_to(kRed2Port));
  ASSERT_TRUE(answer(T.kRed2, 48000, kSynAck).delivered_to(kRed1Port));
  std::string yaml = lb_policy("[{port: red-2}]");
  yaml.erase(yaml.find("load_balancers:"));
  apply(yaml);
  Outcome o = client(48000, kAck);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  EXPECT_EQ(tuple_of(o.sent[0].bytes).dst, T.kRed2.ip);
  o = answer(T.kRed2, 48000, kAck);
  ASSERT_TRUE(o.delivered_to(kRed1Port)) << o.drops;
  EXPECT_EQ(tuple_of(o.sent[0].bytes).src, kVip);
  // No new connection: the VIP is gone with it.
  EXPECT_FALSE(client(48001, kSyn).delivered_to(kRed2Port));
}

TEST_F(LbTest, HairpinIsServedFromTheVip) {
  apply(lb_policy("[{port: red-2}]", "[{protocol: any, to: 0.0.0.0/0}]"));
  // red-2 may reach the VIP: its own group has no egress list.
  Outcome o = send(tcp_frame(T.kRed2, kVipAddr, 45000, 80, kSyn, 16), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  Tuple t = tuple_of(o.sent[0].bytes);
  EXPECT_EQ(t.src, kVip) << "source translated to the VIP";
  EXPECT_EQ(t.sport, 45000);
  EXPECT_EQ(t.dst, T.kRed2.ip);
  EXPECT_EQ(t.dport, 8080);
  EXPECT_EQ(mac_at(o.sent[0].bytes, 0), T.kRed2.mac);
  expect_checksums(o.sent[0].bytes);

  // red-2 answers the VIP (through the router MAC) and gets its own
  // connection back as it opened it.
  o = send(tcp_frame(T.kRed2, kVipAddr, 8080, 45000, kSynAck, 16), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  t = tuple_of(o.sent[0].bytes);
  EXPECT_EQ(t.src, kVip);
  EXPECT_EQ(t.sport, 80);
  EXPECT_EQ(t.dst, T.kRed2.ip);
  EXPECT_EQ(t.dport, 45000);
  expect_checksums(o.sent[0].bytes);
  o = send(tcp_frame(T.kRed2, kVipAddr, 45000, 80, kAck, 16), kRed2Port);
  EXPECT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
}

TEST_F(LbTest, SecurityGroupsJudgeTheVipAndTheTargetPort) {
  // The client may not reach the VIP on 80: refused at its own port, and
  // nothing is left in the table.
  apply(lb_policy("[{port: red-2}]", "[{protocol: tcp, ports: 443, to: 10.0.1.100/32}]"));
  Outcome o = client(46000, kSyn);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "sg_egress_denied=1");
  EXPECT_EQ(conntrack().size(), 0u);

  // The backend takes 80 but not the target port 8080: its ingress is
  // judged against the port the connection reaches it on.
  apply(lb_policy("[{port: red-2}]", "[{protocol: tcp, ports: 80, to: 10.0.1.100/32}]", "80"));
  o = client(46001, kSyn);
  EXPECT_TRUE(o.sent.empty());
  EXPECT_EQ(o.drops, "sg_ingress_denied=1");
  EXPECT_EQ(conntrack().size(), 0u);

  // Egress rules name the VIP, not the backend: a rule for the backend's
  // address does not let the client in through the VIP.
  apply(lb_policy("[{port: red-2}]", "[{protocol: tcp, ports: 8080, to: 10.0.1.12/32}]"));
  EXPECT_EQ(client(46002, kSyn).drops, "sg_egress_denied=1");
}

// The backend's ICMP error about the client's packet reaches the client
// as from the VIP, quoting the packet as the client sent it (RFC 5508).
TEST_F(LbTest, AnErrorFromTheBackendQuotesTheVip) {
  apply(lb_policy("[{port: red-2}]"));
  const Bytes syn = tcp_frame(T.kRed1, kVipAddr, 46200, 80, kSyn, 32);
  const Outcome o = send(syn, kRed1Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes& at_backend = o.sent[0].bytes;
  const Bytes error = Frame()
                          .eth(T.kRed2.mac, T.kRed1.mac)
                          .ipv4(T.kRed2.ip, T.kRed1.ip)
                          .icmp(3, 3)
                          .payload(Bytes(at_backend.begin() + 14, at_backend.begin() + 14 + 28))
                          .bytes();
  const Outcome e = send(error, kRed2Port);
  ASSERT_TRUE(e.delivered_to(kRed1Port)) << e.drops;
  const Bytes& b = e.sent[0].bytes;
  EXPECT_EQ(be32_at(b, 26), kVip) << "from the VIP the client addressed";
  EXPECT_EQ(be32_at(b, 30), T.kRed1.ip);
  EXPECT_EQ(be32_at(b, 42 + 12), T.kRed1.ip);
  EXPECT_EQ(be32_at(b, 42 + 16), kVip) << "the quote as the client sent it";
  EXPECT_EQ(be16_at(b, 62), 46200);
  EXPECT_EQ(be16_at(b, 64), 80);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(b[62 + i], syn[34 + i]) << "quoted TCP byte " << i;
  EXPECT_EQ(inet_checksum(std::span(b).subspan(14, 20)), 0);
  EXPECT_EQ(inet_checksum(std::span(b).subspan(34, be16_at(b, 16) - 20u)), 0) << "ICMP checksum";
  EXPECT_EQ(inet_checksum(std::span(b).subspan(42, 20)), 0) << "quoted IPv4 checksum";
}

// The client already talks to the backend directly from the same source
// port: a connection to the VIP would be translated onto that connection's
// own tuple, so it is refused, and the direct one goes on.
TEST_F(LbTest, AConnectionOntoADirectOnesTupleClashes) {
  apply(lb_policy("[{port: red-2}]", "[{protocol: tcp, ports: \"80,8080\", to: 10.0.1.0/24}]"));
  const Bytes direct = tcp_frame(T.kRed1, T.kRed2, 46100, 8080, kSyn, 32);
  ASSERT_TRUE(send(direct, kRed1Port).delivered_to(kRed2Port));
  EXPECT_EQ(client(46100, kSyn).drops, "lb_xlate_clash=1");
  EXPECT_TRUE(send(direct, kRed1Port).delivered_to(kRed2Port));
  EXPECT_TRUE(client(46101, kSyn).delivered_to(kRed2Port)) << "another source port is no clash";
}

TEST_F(LbTest, WhatNoListenerServes) {
  EXPECT_EQ(client(47000, kSyn, 81).drops, "lb_no_listener=1");
  EXPECT_EQ(send(icmp_frame(T.kRed1, kVipAddr, 8, 0), kRed1Port).drops, "lb_no_listener=1");

  // Tables whose every backend has weight 0 (drained: a controller's
  // tables may say so, the policy language may not): nobody to pick.
  Diagnostics diags;
  auto model = policy::load_policy_text(lb_policy(), "lb.yaml", diags);
  ASSERT_TRUE(model.has_value()) << diags.format();
  proto::NodeTables tables = policy::compile_node(*model, "node-a");
  ASSERT_EQ(tables.load_balancers_size(), 1);
  for (auto& b : *tables.mutable_load_balancers(0)->mutable_backends()) b.set_weight(0);
  apply_tables(tables);
  EXPECT_EQ(client(47001, kSyn).drops, "lb_no_backend=1");
  EXPECT_EQ(conntrack().size(), 0u);
}

// --- two workers (handoff/conn_owner.h) -------------------------------

// A load-balanced connection belongs to the worker of its client's end:
// the SYN to the VIP and the backend's answer from its target port, each
// arriving on the other worker's queue, name one owner, which alone holds
// the connection. So does a hairpin, whose backend answers the VIP.
class LbWorkersTest : public LbTest {
 protected:
  void SetUp() override {
    LbTest::SetUp();
    workers_.build(4096, dp::HandoffMesh::kDefaultRingSize);
  }
  void TearDown() override {
    workers_.reset();
    LbTest::TearDown();
  }
  Handled arrive(unsigned w, const Bytes& frame, uint16_t in_port) {
    return workers_.arrive(w, frame, in_port, snapshot(), now());
  }
  unsigned owner(const Bytes& frame, bool tunnel = false) {
    return WorkerPair::owner_of(snapshot(), frame, kRedVni, tunnel);
  }
  std::array<size_t, WorkerPair::kWorkers> sizes() { return {workers_.table(0).size(), workers_.table(1).size()}; }

  WorkerPair workers_;
};

TEST_F(LbWorkersTest, BothDirectionsOfABalancedConnectionHaveOneOwner) {
  std::array<int, WorkerPair::kWorkers> owned{};
  std::map<uint32_t, int> per_backend;
  for (uint16_t i = 0; i < 200; ++i) {
    const bool udp = i % 4 == 3;
    const auto sport = static_cast<uint16_t>(20000 + i * 13);
    const unsigned w = i & 1;
    const Bytes out = udp ? udp_frame(T.kRed1, kVipAddr, sport, 53) : tcp_frame(T.kRed1, kVipAddr, sport, 80, kSyn, 32);
    const unsigned o = owner(out);
    ++owned[o];
    const auto before = sizes();
    Handled h = arrive(w, out, kRed1Port);
    ASSERT_EQ(h.outcome.sent.size(), 1u) << h.outcome.drops;
    const Addr& b = h.outcome.sent[0].port == kRed2Port ? T.kRed2 : T.kRed3;
    ++per_backend[b.ip];
    EXPECT_EQ(tuple_of(arrived(h.outcome.sent[0])).dst, b.ip);
    EXPECT_EQ(sizes()[o], before[o] + 1);
    EXPECT_EQ(sizes()[o ^ 1], before[o ^ 1]);

    // The backend's answer as it really comes: from its address and the
    // target port, from its vNIC or in VXLAN from node-b.
    const Bytes f = udp ? udp_frame(b, T.kRed1, 5353, sport) : tcp_frame(b, T.kRed1, 8080, sport, kSynAck, 32);
    const bool remote = b.ip == T.kRed3.ip;
    const Bytes reply = remote ? from_node_b(f) : f;
    EXPECT_EQ(owner(reply, remote), o) << "client port " << sport;
    h = arrive(w ^ 1, reply, remote ? kUnderlayPort : kRed2Port);
    ASSERT_TRUE(h.outcome.delivered_to(kRed1Port)) << h.outcome.drops;
    EXPECT_EQ(tuple_of(h.outcome.sent[0].bytes).src, kVip);
    EXPECT_EQ(sizes()[o], before[o] + 1) << "the answer found its connection";
  }
  EXPECT_GT(owned[0], 60);
  EXPECT_GT(owned[1], 60);
  EXPECT_EQ(per_backend.size(), 2u);
}

TEST_F(LbWorkersTest, AHairpinHasOneOwner) {
  apply(lb_policy("[{port: red-2}]", "[{protocol: any, to: 0.0.0.0/0}]"));
  for (uint16_t i = 0; i < 40; ++i) {
    const auto sport = static_cast<uint16_t>(30000 + i * 7);
    const Bytes syn = tcp_frame(T.kRed2, kVipAddr, sport, 80, kSyn, 16);
    const Bytes synack = tcp_frame(T.kRed2, kVipAddr, 8080, sport, kSynAck, 16);  // to the VIP it saw
    const unsigned o = owner(syn);
    EXPECT_EQ(owner(synack), o);
    Handled h = arrive(i & 1, syn, kRed2Port);
    ASSERT_TRUE(h.outcome.delivered_to(kRed2Port)) << h.outcome.drops;
    EXPECT_EQ(tuple_of(h.outcome.sent[0].bytes).src, kVip);
    h = arrive((i & 1) ^ 1, synack, kRed2Port);
    ASSERT_TRUE(h.outcome.delivered_to(kRed2Port)) << h.outcome.drops;
    EXPECT_EQ(tuple_of(h.outcome.sent[0].bytes).sport, 80);
    EXPECT_EQ(tuple_of(h.outcome.sent[0].bytes).dport, sport);
  }
  EXPECT_EQ(workers_.table(0).size() + workers_.table(1).size(), 40u);
}

// The rule reads the ends, not the way: a connection straight to a
// backend's service port, or from it, is owned by its other end's worker
// both ways too.
TEST_F(LbWorkersTest, ADirectConnectionToABackendsPortHasOneOwner) {
  for (uint16_t sport = 1024; sport < 1124; ++sport) {
    EXPECT_EQ(owner(tcp_frame(T.kRed1, T.kRed2, sport, 8080, kSyn)), owner(tcp_frame(T.kRed2, T.kRed1, 8080, sport, kAck)));
    EXPECT_EQ(owner(tcp_frame(T.kRed2, T.kRed1, 8080, sport, kSyn)), owner(tcp_frame(T.kRed1, T.kRed2, sport, 8080, kAck)));
  }
}

// --- health checks (lb/health_prober.h, lb/probe_reply_stage.h) ----------

const Addr kRedGateway{kRedRouter, ip4("10.0.1.1")};  // the probes' source

class LbHealthTest : public LbTest {
 protected:
  void SetUp() override {
    FlowCacheFixture::SetUp();
    apply(lb_policy("[{port: red-2}, {port: red-3}]") + kHealthCheck);
  }
  std::unique_ptr<dp::Snapshot> base() const override {
    auto b = LbTest::base();
    b->lb_down = down_;
    return b;
  }
  static constexpr const char* kHealthCheck =
      "    health_check: {protocol: tcp, interval: 1s, timeout: 500ms, unhealthy_threshold: 3, "
      "healthy_threshold: 2}\n";
  dp::LbHealth down_;
};

TEST_F(LbHealthTest, TheNodeProbesTheBackendItHostsFromTheGatewayAddress) {
  const dp::LbTable& lbt = snapshot().lbs;
  ASSERT_EQ(lbt.probes.size(), 1u) << "red-3 is node-b's to probe";
  const dp::LbProbeTarget& t = lbt.probes[0];
  EXPECT_EQ(t.lb, "web-lb");
  EXPECT_EQ(t.port, "red-2");
  EXPECT_EQ(t.dpdk_port, kRed2Port);
  EXPECT_EQ(t.src_ip, kRedGateway.ip);
  EXPECT_EQ(t.dst_ip, T.kRed2.ip);
  EXPECT_EQ(t.dst_port, 8080) << "the first TCP listener's target port";
  EXPECT_EQ(t.interval_ms, 1000u);
  EXPECT_EQ(t.timeout_ms, 500u);
  ASSERT_EQ(lbt.probe_src.size(), dp::kMaxPorts);
  EXPECT_EQ(lbt.probe_src[kRed2Port], kRedGateway.ip);
  EXPECT_EQ(lbt.probe_src[kRed1Port], 0u) << "no backend there";

  // The SYN the prober sends, as the frame the VM receives.
  Bytes syn(dp::kProbeFrameLen);
  dp::write_probe_segment(syn.data(), dp::ProbeSegment{t.src_mac, t.dst_mac, t.src_ip, t.dst_ip, 61000, t.dst_port,
                                                       0x12345678, 0, RTE_TCP_SYN_FLAG});
  EXPECT_EQ(mac_at(syn, 0), T.kRed2.mac);
  EXPECT_EQ(mac_at(syn, 6), kRedRouter);
  const Tuple st = tuple_of(syn);
  EXPECT_EQ(st.src, kRedGateway.ip);
  EXPECT_EQ(st.dst, T.kRed2.ip);
  EXPECT_EQ(st.sport, 61000);
  EXPECT_EQ(st.dport, 8080);
  EXPECT_EQ(be32_at(syn, 38), 0x12345678u) << "the ISN";
  EXPECT_EQ(syn[47], RTE_TCP_SYN_FLAG);
  EXPECT_EQ(be16_at(syn, 20) & 0x4000, 0x4000) << "DF";
  expect_checksums(syn);
}

TEST_F(LbHealthTest, RepliesAreConsumedASynAckAnsweredWithRst) {
  // The backend's SYN-ACK to the probe: turned into the RST that ends it,
  // back out of the backend's vNIC; nothing reaches the router or a VM.
  Frame f;
  f.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61000, {.seq = 999, .ack = 0x12345679, .flags = kSynAck});
  Outcome o = send(f.bytes(), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes rst = o.sent[0].bytes;
  ASSERT_EQ(rst.size(), dp::kProbeFrameLen);
  EXPECT_EQ(mac_at(rst, 0), T.kRed2.mac);
  EXPECT_EQ(mac_at(rst, 6), kRedRouter);
  const Tuple rt = tuple_of(rst);
  EXPECT_EQ(rt.src, kRedGateway.ip);
  EXPECT_EQ(rt.dst, T.kRed2.ip);
  EXPECT_EQ(rt.sport, 61000);
  EXPECT_EQ(rt.dport, 8080);
  EXPECT_EQ(be32_at(rst, 38), 0x12345679u) << "seq: what the SYN-ACK acknowledged";
  EXPECT_EQ(rst[47], RTE_TCP_RST_FLAG);
  expect_checksums(rst);
  EXPECT_EQ(conntrack().size(), 0u) << "no connection made for it";

  // A refusal, and any other segment to the probe address: consumed.
  Frame r;
  r.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61001, {.ack = 5, .flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG});
  EXPECT_EQ(send(r.bytes(), kRed2Port).drops, "lb_probe_reply=1");
  EXPECT_EQ(send(tcp_frame(T.kRed2, kRedGateway, 5000, 61002, kSyn), kRed2Port).drops, "lb_probe_reply=1");

  // From a vNIC nobody probes, the same segment is the router's business.
  const Outcome other = send(tcp_frame(T.kRed1, kRedGateway, 8080, 61000, kSynAck), kRed1Port);
  EXPECT_TRUE(other.sent.empty());
  EXPECT_EQ(other.drops.find("lb_probe"), std::string::npos) << other.drops;
  // And the backend's own traffic elsewhere passes.
  EXPECT_TRUE(send(udp_frame(T.kRed2, T.kRed1, 5353, 5000), kRed2Port).drops.find("lb_probe") == std::string::npos);
}

TEST_F(LbHealthTest, ABackendFoundDownLeavesTheSelectionAndItsConnectionsAreCut) {
  // Connections on both backends.
  uint16_t on_red2 = 0;
  for (uint16_t sport = 48000; sport < 48032 && on_red2 == 0; ++sport)
    if (backend_of(client(sport, kSyn)).ip == T.kRed2.ip) on_red2 = sport;
  ASSERT_NE(on_red2, 0) << "no connection went to red-2";
  ASSERT_TRUE(answer(T.kRed2, on_red2, kSynAck).delivered_to(kRed1Port));
  ASSERT_TRUE(client(on_red2, kAck).delivered_to(kRed2Port));

  down_ = {{"web-lb", "red-2"}};
  apply(lb_policy("[{port: red-2}, {port: red-3}]") + kHealthCheck);
  EXPECT_TRUE(snapshot().lbs.backends[0].down);
  for (uint16_t sport = 48100; sport < 48140; ++sport)
    EXPECT_EQ(backend_of(client(sport, kSyn)).ip, T.kRed3.ip) << "new connections avoid the backend down";
  EXPECT_EQ(client(on_red2, kAck).drops, "lb_backend_gone=1") << "not moved to another backend";

  down_.clear();
  apply(lb_policy("[{port: red-2}, {port: red-3}]") + kHealthCheck);
  bool red2 = false;
  for (uint16_t sport = 48200; sport < 48240; ++sport) red2 |= backend_of(client(sport, kSyn)).ip == T.kRed2.ip;
  EXPECT_TRUE(red2) << "back in the selection";
}

TEST_F(LbHealthTest, AnHttpProbeSendsItsGetInOneSegmentAndResetsAfterTheStatusLine) {
  apply(lb_policy("[{port: red-2}, {port: red-3}]") +
        "    health_check: {protocol: http, path: /healthz, expect_status: 204, interval: 1s, timeout: 500ms}\n");
  ASSERT_EQ(snapshot().lbs.probes.size(), 1u);
  const dp::LbProbeTarget& t = snapshot().lbs.probes[0];
  EXPECT_EQ(t.http_status, 204);
  ASSERT_EQ(t.http_request, dp::http_probe_request("/healthz", T.kRed2.ip));

  // The SYN-ACK: answered with the ACK that carries the whole GET.
  Frame f;
  f.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61000, {.seq = 999, .ack = 0x12345679, .flags = kSynAck});
  Outcome o = send(f.bytes(), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes get = o.sent[0].bytes;
  ASSERT_EQ(get.size(), dp::kProbeFrameLen + t.http_request.size());
  const Tuple gt = tuple_of(get);
  EXPECT_EQ(gt.src, kRedGateway.ip);
  EXPECT_EQ(gt.dport, 8080);
  EXPECT_EQ(be32_at(get, 38), 0x12345679u) << "seq: our ISN + 1";
  EXPECT_EQ(be32_at(get, 42), 1000u) << "ack: the server's ISN + 1";
  EXPECT_EQ(get[47], RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
  EXPECT_EQ(std::string(get.begin() + dp::kProbeFrameLen, get.end()), t.http_request);
  expect_checksums(get);

  // The server's answer: its status line read, then reset.
  const uint32_t after_get = 0x12345679u + static_cast<uint32_t>(t.http_request.size());
  Frame a;
  a.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61000, {.seq = 1000, .ack = after_get, .flags = kAck});
  const std::string line = "HTTP/1.1 204 No Content\r\n\r\n";
  a.payload(Bytes(line.begin(), line.end()));
  o = send(a.bytes(), kRed2Port);
  ASSERT_TRUE(o.delivered_to(kRed2Port)) << o.drops;
  const Bytes rst = o.sent[0].bytes;
  ASSERT_EQ(rst.size(), dp::kProbeFrameLen);
  EXPECT_EQ(be32_at(rst, 38), after_get);
  EXPECT_EQ(rst[47], RTE_TCP_RST_FLAG);
  expect_checksums(rst);

  // A bare ACK of the request settles nothing: consumed.
  Frame ack;
  ack.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61000, {.seq = 1000, .ack = after_get, .flags = kAck});
  EXPECT_EQ(send(ack.bytes(), kRed2Port).drops, "lb_probe_reply=1");
}

TEST_F(LbHealthTest, RepliesReachTheProberThroughTheChannelAndAFullInboxIsCounted) {
  std::string error;
  auto channel = dp::ProbeChannel::create(error);
  ASSERT_TRUE(channel) << error;
  dp::ProbeReplyStage stage(channel.get());
  stage.wire(dp::ProbeReplyNext::kPass, dp::NodeId::kFlowLookup);
  stage.wire(dp::ProbeReplyNext::kAnswer, dp::NodeId::kTx);
  set_stage(dp::NodeId::kLbProbeReply, stage);

  Frame f;
  f.eth(T.kRed2.mac, kRedRouter).ipv4(T.kRed2.ip, kRedGateway.ip).tcp(8080, 61007, {.seq = 999, .ack = 4242, .flags = kSynAck});
  ASSERT_TRUE(send(f.bytes(), kRed2Port).delivered_to(kRed2Port));
  dp::ProbeReply got[4];
  ASSERT_EQ(channel->take_replies(got, 4), 1u);
  EXPECT_EQ(got[0].in_port, kRed2Port);
  EXPECT_EQ(got[0].src_ip, T.kRed2.ip);
  EXPECT_EQ(got[0].dst_ip, kRedGateway.ip);
  EXPECT_EQ(got[0].sport, 8080);
  EXPECT_EQ(got[0].dport, 61007);
  EXPECT_EQ(got[0].seq, 999u);
  EXPECT_EQ(got[0].ack, 4242u);
  EXPECT_EQ(got[0].flags, kSynAck);
  EXPECT_EQ(got[0].http_status, 0);

  // The prober fell behind: the reply is dropped and counted, not forwarded.
  const dp::ProbeReply filler{};
  while (channel->deliver(filler)) {
  }
  EXPECT_EQ(send(f.bytes(), kRed2Port).drops, "lb_probe_lost=1");
  EXPECT_EQ(channel->lost_replies(), 2u) << "the filler's last, and the stage's";
}

}  // namespace
}  // namespace weft::test
