// build_snapshot: NodeTables -> the overlay's lookup tables. What it builds
// from a compiled policy, every error it refuses tables for (the node keeps
// the tables in force), and the policy/node.yaml mismatches it only warns
// about.

#include <gtest/gtest.h>
#include <rte_hash.h>

#include <functional>
#include <string>
#include <vector>

#include "dataplane/tables/snapshot_builder.h"
#include "dataplane/tables/validate_tables.h"
#include "tests/packet/overlay_topology.h"

namespace weft::test {
namespace {

using dp::FdbKind;

const Topo T;

rte_ether_addr ether(const Mac& m) {
  rte_ether_addr a;
  std::copy(m.begin(), m.end(), a.addr_bytes);
  return a;
}

std::unique_ptr<dp::Snapshot> build(const proto::NodeTables& t, std::string& error,
                                    std::vector<std::string>* warnings = nullptr) {
  return dp::build_snapshot(t, overlay_base(), error, warnings);
}

std::optional<dp::FdbEntry> fdb(const dp::Snapshot& s, uint32_t vni, const Mac& m) {
  const dp::FdbKey key = dp::fdb_key(vni, ether(m));
  void* data = nullptr;
  if (rte_hash_lookup_data(s.l2.fdb.get(), &key, &data) < 0) return std::nullopt;
  return dp::fdb_entry(data);
}

TEST(OverlayBuilder, BuildsTheNodesTables) {
  std::string error;
  std::vector<std::string> warnings;
  auto s = build(overlay_tables(), error, &warnings);
  ASSERT_NE(s, nullptr) << error;
  const dp::Snapshot& t = *s;

  ASSERT_EQ(t.networks.networks.size(), 2u);
  ASSERT_EQ(t.vteps.vteps.size(), 2u);  // node-b and node-c
  const auto red = fdb(*s, kRedVni, T.kRed2.mac);
  ASSERT_TRUE(red);
  EXPECT_EQ(red->kind, FdbKind::kLocal);
  EXPECT_EQ(red->value, kRed2Port);
  const auto remote = fdb(*s, kRedVni, T.kRed3.mac);
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->kind, FdbKind::kRemote);
  EXPECT_EQ(t.vteps.vteps.at(remote->value).ip, T.kVtepB);
  EXPECT_EQ(t.vteps.vteps.at(remote->value).node, "node-b");
  // The twins: one MAC, two networks, two answers.
  EXPECT_EQ(fdb(*s, kRedVni, T.kRed1.mac)->value, kRed1Port);
  EXPECT_EQ(fdb(*s, kBlueVni, T.kBlue1.mac)->value, kBlue1Port);
  EXPECT_FALSE(fdb(*s, kBlueVni, T.kRed2.mac)) << "red-2 is no member of blue";
  EXPECT_EQ(fdb(*s, kRedVni, T.kRed9.mac)->kind, FdbKind::kUnbound);

  const dp::Vnic& red1 = t.vnics.by_port[kRed1Port];
  EXPECT_TRUE(red1.in_policy);
  EXPECT_EQ(red1.vni, kRedVni);
  EXPECT_EQ(red1.mtu, kRedMtu);
  EXPECT_EQ(red1.ip, rte_cpu_to_be_32(T.kRed1.ip));
  EXPECT_EQ(red1.allowed.size(), 2u);
  EXPECT_EQ(t.vnics.by_port[kBlue1Port].mtu, kBlueMtu);
  EXPECT_FALSE(t.vnics.by_port[kStrayPort].in_policy);

  // The outer header template of node-b: everything but the per-packet fields.
  const dp::Vtep& b = t.vteps.vteps.at(remote->value);
  EXPECT_TRUE(b.routable);
  EXPECT_EQ(b.next_hop, T.kVtepB);
  EXPECT_EQ(b.outer.ip.time_to_live, 64);
  // By value: the template is packed wire headers, and EXPECT_EQ binds a
  // reference, which a misaligned field may not take.
  EXPECT_EQ(static_cast<rte_be32_t>(b.outer.ip.src_addr), rte_cpu_to_be_32(T.kVtepA));
  EXPECT_EQ(static_cast<rte_be16_t>(b.outer.udp.dst_port), rte_cpu_to_be_16(4789));
  // node-c: off the underlay subnet, and this base has no next hop.
  const dp::Vtep& c = t.vteps.vteps.at(fdb(*s, kRedVni, T.kRed4.mac)->value);
  EXPECT_FALSE(c.routable);

  const std::vector<std::string> want = {
      "port 'red-9' is bound to no vNIC in node.yaml: frames for it are dropped (l2_port_unbound)",
      "node.yaml binds 'stray', which is no port of node 'node-a' in the policy: its frames are dropped "
      "(port_not_in_policy)",
  };
  ASSERT_EQ(warnings.size(), 3u) << ::testing::PrintToString(warnings);
  EXPECT_NE(warnings[0].find("peer node 'node-c' (10.9.9.9) is outside the underlay subnet 172.31.0.1/24"),
            std::string::npos)
      << warnings[0];
  EXPECT_EQ(warnings[1], want[0]);
  EXPECT_EQ(warnings[2], want[1]);
}

TEST(OverlayBuilder, KeepsTheNeighborTableAcrossSnapshots) {
  std::string error;
  auto first = build(overlay_tables(), error);
  ASSERT_NE(first, nullptr) << error;
  auto base = overlay_base();
  base->neighbors = first->neighbors;
  auto second = dp::build_snapshot(overlay_tables(), std::move(base), error);
  ASSERT_NE(second, nullptr) << error;
  EXPECT_EQ(first->neighbors.get(), second->neighbors.get());
  EXPECT_EQ(first->vteps.vteps[0].neighbor, second->vteps.vteps[0].neighbor)
      << "a learned MAC stays valid across a policy change";
}

TEST(OverlayBuilder, RefusesTablesNoDataplaneCouldUse) {
  using Mutate = std::function<void(proto::NodeTables&)>;
  auto red = [](proto::NodeTables& t) -> proto::Network& {
    for (proto::Network& n : *t.mutable_networks())
      if (n.name() == "red") return n;
    throw std::logic_error("no red");
  };
  const struct {
    const char* what;
    Mutate mutate;
    const char* error;
  } cases[] = {
      {"tables for a node the policy does not name", [](auto& t) { t.set_vtep_ip(0); },
       "the policy does not name node 'node-a'"},
      {"a VTEP other than node.yaml's", [](auto& t) { t.set_vtep_ip(ip4("172.31.0.9")); },
       "the policy gives node 'node-a' the VTEP address 172.31.0.9, but its underlay address is 172.31.0.1"},
      {"a peer on our own address", [](auto& t) { t.mutable_peers(0)->set_ip(ip4("172.31.0.1")); },
       "which is this node's own"},
      {"a peer twice", [](auto& t) { *t.add_peers() = t.peers(0); }, "is listed twice"},
      {"VNI 0", [&](auto& t) { red(t).set_vni(0); }, "network 'red': VNI 0 is outside 1-16777215"},
      {"a VNI above 24 bits", [&](auto& t) { red(t).set_vni(1u << 24); }, "is outside 1-16777215"},
      {"two networks, one VNI", [&](auto& t) { red(t).set_vni(kBlueVni); }, "VNI 1002 is used by another network"},
      {"an MTU below the policy's", [&](auto& t) { red(t).set_mtu(575); }, "network 'red': MTU 575 is outside 576-9000"},
      {"an MTU above the policy's", [&](auto& t) { red(t).set_mtu(9001); }, "MTU 9001 is outside 576-9000"},
      {"a multicast MAC", [&](auto& t) { red(t).mutable_l2(0)->set_mac(0x01005e000001); }, "is a multicast MAC"},
      {"an L2 entry twice", [&](auto& t) { *red(t).add_l2() = red(t).l2(0); }, "appears twice"},
      {"an L2 entry nowhere", [&](auto& t) { red(t).mutable_l2(0)->clear_location(); }, "has no location"},
      {"an L2 entry at a VTEP that is no peer",
       [&](auto& t) { red(t).mutable_l2(0)->mutable_location()->set_remote_vtep(ip4("172.31.0.99")); },
       "names VTEP 172.31.0.99, which is no peer of this node"},
      {"an ARP entry twice", [&](auto& t) { *red(t).add_arp() = red(t).arp(0); }, "ARP entry 10.0.1.1 appears twice"},
      {"a flood list with a stranger", [&](auto& t) { red(t).add_flood_remote_vteps(ip4("172.31.0.99")); },
       "network 'red': flood list names VTEP 172.31.0.99"},
      {"a port in a network the tables lack", [](auto& t) { t.mutable_ports(0)->set_vni(4242); },
       "which the tables do not hold"},
      // Untrusted tables (issue 17, item 9): ranges, references, duplicates.
      {"a network twice", [&](auto& t) { *t.add_networks() = red(t); }, "network 'red' is listed twice"},
      {"a peer's name twice", [](auto& t) { *t.add_peers() = t.peers(0); t.mutable_peers(1)->set_ip(ip4("172.31.0.77")); },
       "peer node 'node-b' is listed twice"},
      {"a nameless network", [&](auto& t) { red(t).set_name(""); }, "a network has a name of 0 bytes"},
      {"a subnet twice", [&](auto& t) { *red(t).add_subnets() = red(t).subnets(0); }, "subnet 's' is listed twice"},
      {"overlapping subnets",
       [&](auto& t) {
         proto::Subnet* s = red(t).add_subnets();
         *s = red(t).subnets(0);
         s->set_name("wide");
         s->mutable_cidr()->set_len(16);
         s->mutable_cidr()->set_addr(ip4("10.0.0.0"));
         s->set_gateway(ip4("10.0.0.1"));
       },
       "subnet 'wide' (10.0.0.0/16) overlaps another subnet"},
      {"a prefix length above 32", [&](auto& t) { red(t).mutable_subnets(0)->mutable_cidr()->set_len(33); },
       "prefix length 33 is above 32"},
      {"a subnet with host bits", [&](auto& t) { red(t).mutable_subnets(0)->mutable_cidr()->set_addr(ip4("10.0.1.5")); },
       "10.0.1.5/24 has host bits set"},
      {"a gateway outside its subnet", [&](auto& t) { red(t).mutable_subnets(0)->set_gateway(ip4("10.0.2.1")); },
       "gateway 10.0.2.1 is outside it"},
      {"a route twice", [&](auto& t) { *red(t).add_routes() = red(t).routes(0); }, "route 10.0.1.0/24 is listed twice"},
      {"a route of an unknown kind", [&](auto& t) { red(t).mutable_routes(0)->set_kind(static_cast<proto::Route::Kind>(7)); },
       "unknown kind 7"},
      {"a static route nowhere",
       [&](auto& t) {
         proto::Route* r = red(t).add_routes();
         r->mutable_prefix()->set_addr(ip4("192.168.9.0"));
         r->mutable_prefix()->set_len(24);
         r->set_kind(proto::Route::STATIC);
         r->set_next_hop_mac(0x02000000010c);
       },
       "route 192.168.9.0/24: next hop has no location"},
      {"an L2 entry on a stranger port",
       [&](auto& t) { red(t).mutable_l2(0)->mutable_location()->set_local_port("nobody"); },
       "is on 'nobody', which is no port of this node"},
      {"an L2 entry without a MAC", [&](auto& t) { red(t).mutable_l2(0)->set_mac(0); }, "has no MAC"},
      {"a MAC wider than 48 bits", [&](auto& t) { red(t).mutable_l2(0)->set_mac(uint64_t{1} << 48); }, "is wider than 48 bits"},
      {"a multicast router MAC", [&](auto& t) { red(t).set_router_mac(0x01005e000001); }, "router: MAC 01:00:5e:00:00:01 is a multicast MAC"},
      {"a flood list with a stranger port", [&](auto& t) { red(t).add_flood_local_ports("nobody"); },
       "flood list names 'nobody', which is no port of this node"},
      {"a flood list naming a port twice", [&](auto& t) { red(t).add_flood_local_ports(red(t).flood_local_ports(0)); },
       "flood list names port 'red-1' twice"},
      {"a flood list naming a VTEP twice", [&](auto& t) { red(t).add_flood_remote_vteps(red(t).flood_remote_vteps(0)); },
       "network 'red': flood list names VTEP "},
      {"a port twice", [](auto& t) { *t.add_ports() = t.ports(0); }, "port 'blue-1' is listed twice"},
      {"a port in a subnet its network lacks", [](auto& t) { t.mutable_ports(0)->set_subnet("t"); },
       "subnet 't' is no subnet of network 'blue'"},
      {"two ports on one address",
       [](auto& t) { t.mutable_ports(1)->set_ip(t.ports(2).ip()); t.mutable_ports(1)->set_mac(0x020000000177); },
       "port 'red-2': address 10.0.1.12 is another port's in its network"},
      {"an allowed address with host bits",
       [](auto& t) {
         proto::Prefix* a = t.mutable_ports(0)->add_allowed_addresses();
         a->set_addr(ip4("10.0.1.7"));
         a->set_len(8);
       },
       "allowed address: 10.0.1.7/8 has host bits set"},
      {"a port in a group the tables lack", [](auto& t) { t.mutable_ports(0)->add_security_groups("ghost"); },
       "security group 'ghost' of network 'blue' is not in the tables"},
      {"a port in a group twice", [](auto& t) { t.mutable_ports(0)->add_security_groups("open"); },
       "security group 'open' is listed twice"},
      {"a group twice", [](auto& t) { *t.add_security_groups() = t.security_groups(0); }, "is listed twice"},
      {"a group in no network", [](auto& t) { t.mutable_security_groups(0)->set_network("green"); },
       "no such network in the tables"},
      {"a rule of an unknown protocol",
       [](auto& t) { t.mutable_security_groups(0)->mutable_ingress(0)->set_protocol(static_cast<proto::Protocol>(47)); },
       "unknown protocol 47"},
      {"a port range backwards",
       [](auto& t) {
         proto::SecurityRule* r = t.mutable_security_groups(0)->mutable_ingress(0);
         r->set_protocol(proto::PROTOCOL_TCP);
         proto::PortRange* pr = r->add_ports();
         pr->set_lo(90);
         pr->set_hi(80);
       },
       "port range 90-80"},
      {"a port above 65535",
       [](auto& t) {
         proto::SecurityRule* r = t.mutable_security_groups(0)->mutable_ingress(0);
         r->set_protocol(proto::PROTOCOL_UDP);
         proto::PortRange* pr = r->add_ports();
         pr->set_lo(1);
         pr->set_hi(70000);
       },
       "port range 1-70000"},
      {"an ICMP type above 255",
       [](auto& t) {
         proto::SecurityRule* r = t.mutable_security_groups(0)->mutable_ingress(0);
         r->set_protocol(proto::PROTOCOL_ICMP);
         r->set_icmp_type(256);
       },
       "ICMP type or code above 255"},
      {"a DHCP prefix length of 31", [](auto& t) { t.mutable_ports(0)->mutable_dhcp()->set_prefix_len(31); },
       "DHCP prefix length 31 is outside 1-30"},
      {"a DHCP MTU of 70000", [](auto& t) { t.mutable_ports(0)->mutable_dhcp()->set_mtu(70000); },
       "DHCP MTU 70000 is outside 576-9000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    proto::NodeTables t = overlay_tables();
    c.mutate(t);
    std::string error;
    EXPECT_EQ(build(t, error), nullptr);
    EXPECT_NE(error.find(c.error), std::string::npos) << "error: " << error;
  }
}

// A hostile controller cannot make the node allocate without bound: every
// list has a cap (TableLimits), checked before anything is built, and so
// has what the security rules expand to.
TEST(OverlayBuilder, RefusesTablesOverTheirCaps) {
  using Limits = dp::TableLimits;
  using Mutate = std::function<void(proto::NodeTables&)>;
  const struct {
    const char* what;
    Mutate mutate;
    const char* error;
  } cases[] = {
      {"too many networks",
       [](auto& t) {
         for (size_t i = 0; i < Limits::kMaxNetworks; ++i) t.add_networks();
       },
       "networks: 4098 is more than the node accepts (4096)"},
      {"too many peers",
       [](auto& t) {
         for (size_t i = 0; i <= Limits::kMaxPeers; ++i) t.add_peers();
       },
       "peer VTEPs: 4099 is more than the node accepts (4096)"},
      {"too many L2 entries in a network",
       [](auto& t) {
         proto::Network& n = *t.mutable_networks(0);
         for (size_t i = 0; i <= Limits::kMaxL2Entries; ++i) n.add_l2();
       },
       "L2 entries: "},
      {"a rule expanding past the classifier's cap",
       [](auto& t) {
         proto::SecurityGroup& g = *t.mutable_security_groups(0);
         // 1024 x 1024 ranges in a single rule of ~10 KiB: a million rules.
         for (int k = 0; k < 2; ++k) {
           proto::SecurityRule& r = *g.add_ingress();
           r.set_protocol(proto::PROTOCOL_TCP);
           for (uint32_t i = 0; i < 1024; ++i) {
             proto::PortRange* pr = r.add_ports();
             pr->set_lo(i);
             pr->set_hi(i);
             proto::Prefix* p = r.add_remote();
             p->set_addr(i << 8);
             p->set_len(24);
           }
         }
       },
       "security rules (remote prefixes x port ranges): "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    proto::NodeTables t = overlay_tables();
    c.mutate(t);
    std::string error;
    EXPECT_EQ(build(t, error), nullptr);
    EXPECT_NE(error.find(c.error), std::string::npos) << "error: " << error;
  }
}

TEST(OverlayBuilder, NeedsABase) {
  std::string error;
  EXPECT_EQ(dp::build_snapshot(overlay_tables(), nullptr, error), nullptr);
  EXPECT_EQ(error, "build_snapshot: no base snapshot");
}

}  // namespace
}  // namespace weft::test
