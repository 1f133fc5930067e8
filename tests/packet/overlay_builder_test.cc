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
      {"an MTU below 68", [&](auto& t) { red(t).set_mtu(67); }, "network 'red': MTU 67 is below 68"},
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
