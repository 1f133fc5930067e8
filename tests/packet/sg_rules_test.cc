// Security-group classification (acl/): a policy compiled by the real
// loader and compiler, built into rte_acl tries by build_security_groups,
// and every rule kind asked about from both sides: TCP port ranges, UDP,
// ICMP type and code, `any`, remote CIDRs and remote groups (resolved to
// their members), allow-all egress, no groups at all, and an empty egress
// list.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <string>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/acl/sg_builder.h"
#include "tests/packet/packet_builder.h"

namespace weft::test {
namespace {

using dp::SecurityGroupTable;
using dp::SgDirection;

const char* const kPolicy = R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - name: shop
    vni: 5001
    subnets: [{name: web, cidr: 10.1.1.0/24}, {name: db, cidr: 10.1.2.0/24}]
ports:
  - {name: web-1, network: shop, subnet: web, node: node-a, ip: 10.1.1.11, security_groups: [web]}
  - {name: web-2, network: shop, subnet: web, node: node-b, ip: 10.1.1.12, security_groups: [web]}
  - {name: web-3, network: shop, subnet: web, node: node-a, ip: 10.1.1.13, security_groups: [web]}
  - {name: db-1, network: shop, subnet: db, node: node-a, ip: 10.1.2.21, security_groups: [db]}
  - {name: bare, network: shop, subnet: web, node: node-a, ip: 10.1.1.30}
  - {name: jail, network: shop, subnet: web, node: node-a, ip: 10.1.1.40, security_groups: [jail]}
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: "80,443,8000-8080", from: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: 8, from: 10.1.0.0/16}
      - {protocol: udp, ports: 53, from: 10.1.2.0/24}
    egress:
      - {protocol: tcp, ports: 5432, to_group: db}
      - {protocol: icmp, icmp_type: 3, icmp_code: 4, to: 10.1.0.0/16}
  - name: db
    ingress:
      - {protocol: tcp, ports: 5432, from_group: web}
      - {protocol: any, from: 192.168.50.0/24}
  - name: jail
    ingress: []
    egress: []
)";

// DPDK ports node.yaml binds the node-a ports to.
const std::map<std::string, uint16_t> kBound = {
    {"web-1", 1}, {"web-3", 3}, {"db-1", 4}, {"bare", 5}, {"jail", 6}};

class SgRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    auto model = policy::load_policy_text(kPolicy, "sg.yaml", diags);
    ASSERT_TRUE(model) << diags.format();
    tables_ = policy::compile_node(*model, "node-a");
    std::string error;
    ASSERT_TRUE(dp::build_security_groups(tables_, kBound, sg_, error)) << error;
  }

  // The rule id that allows a connection into (ingress) or out of (egress)
  // `port`, the other end at `remote`.
  uint32_t classify(SgDirection d, const std::string& port, uint8_t proto, const char* remote,
                    uint16_t l4) const {
    const dp::SgKey k =
        dp::make_sg_key(proto, htonl(ip4(remote)), sg_.port_class(kBound.at(port)), htons(l4));
    uint32_t result = 0;
    sg_.classify(d, &k, &result, 1);
    return result;
  }
  bool allows_in(const std::string& port, uint8_t proto, const char* from, uint16_t l4) const {
    return classify(SgDirection::kIngress, port, proto, from, l4) != SecurityGroupTable::kDenied;
  }
  bool allows_out(const std::string& port, uint8_t proto, const char* to, uint16_t l4) const {
    const uint16_t id = kBound.at(port);
    return sg_.egress_allows_all(id) ||
           classify(SgDirection::kEgress, port, proto, to, l4) != SecurityGroupTable::kDenied;
  }

  static uint16_t icmp(uint8_t type, uint8_t code = 0) {
    return static_cast<uint16_t>(type << 8 | code);
  }

  proto::NodeTables tables_;
  SecurityGroupTable sg_;
};

TEST_F(SgRulesTest, TcpPortRangesFromAnywhere) {
  for (uint16_t port : {80, 443, 8000, 8042, 8080})
    EXPECT_TRUE(allows_in("web-1", IPPROTO_TCP, "203.0.113.9", port)) << port;
  for (uint16_t port : {22, 79, 81, 442, 444, 7999, 8081, 5432})
    EXPECT_FALSE(allows_in("web-1", IPPROTO_TCP, "203.0.113.9", port)) << port;
  // A TCP rule says nothing about UDP on the same port.
  EXPECT_FALSE(allows_in("web-1", IPPROTO_UDP, "203.0.113.9", 80));
}

TEST_F(SgRulesTest, UdpFromACidr) {
  EXPECT_TRUE(allows_in("web-1", IPPROTO_UDP, "10.1.2.21", 53));
  EXPECT_TRUE(allows_in("web-1", IPPROTO_UDP, "10.1.2.255", 53));
  EXPECT_FALSE(allows_in("web-1", IPPROTO_UDP, "10.1.3.1", 53));  // outside the /24
  EXPECT_FALSE(allows_in("web-1", IPPROTO_UDP, "10.1.2.21", 54));
  EXPECT_FALSE(allows_in("web-1", IPPROTO_TCP, "10.1.2.21", 53));
}

TEST_F(SgRulesTest, IcmpTypeAndCode) {
  EXPECT_TRUE(allows_in("web-1", IPPROTO_ICMP, "10.1.9.9", icmp(8)));  // echo, any code
  EXPECT_TRUE(allows_in("web-1", IPPROTO_ICMP, "10.1.9.9", icmp(8, 7)));
  EXPECT_FALSE(allows_in("web-1", IPPROTO_ICMP, "10.1.9.9", icmp(13)));     // timestamp
  EXPECT_FALSE(allows_in("web-1", IPPROTO_ICMP, "10.2.0.1", icmp(8)));      // outside 10.1/16
  EXPECT_TRUE(allows_out("web-1", IPPROTO_ICMP, "10.1.2.21", icmp(3, 4)));  // type and code
  EXPECT_FALSE(allows_out("web-1", IPPROTO_ICMP, "10.1.2.21", icmp(3, 3)));
  EXPECT_FALSE(allows_out("web-1", IPPROTO_ICMP, "10.1.2.21", icmp(8)));
}

TEST_F(SgRulesTest, RemoteGroupsAreTheirMembers) {
  // db's ingress names group web: web-1, web-2 (on node-b), web-3.
  for (const char* member : {"10.1.1.11", "10.1.1.12", "10.1.1.13"})
    EXPECT_TRUE(allows_in("db-1", IPPROTO_TCP, member, 5432)) << member;
  // Neighbours of the members are not members.
  for (const char* other : {"10.1.1.10", "10.1.1.14", "10.1.1.30"})
    EXPECT_FALSE(allows_in("db-1", IPPROTO_TCP, other, 5432)) << other;
  // web's egress names group db: db-1 only.
  EXPECT_TRUE(allows_out("web-1", IPPROTO_TCP, "10.1.2.21", 5432));
  EXPECT_FALSE(allows_out("web-1", IPPROTO_TCP, "10.1.2.22", 5432));
  EXPECT_FALSE(allows_out("web-1", IPPROTO_TCP, "10.1.2.21", 5433));
  // And the rule that matched is the group's, as written.
  const dp::SgRuleRef* ref =
      sg_.ref(classify(SgDirection::kIngress, "db-1", IPPROTO_TCP, "10.1.1.12", 5432));
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->group, "db");
  EXPECT_EQ(ref->network, "shop");
  EXPECT_EQ(ref->index, 0u);
}

TEST_F(SgRulesTest, AnyProtocol) {
  for (uint8_t proto : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}, uint8_t{IPPROTO_GRE}}) {
    EXPECT_TRUE(allows_in("db-1", proto, "192.168.50.7", 22)) << int(proto);
    EXPECT_FALSE(allows_in("db-1", proto, "192.168.51.7", 22)) << int(proto);
  }
  EXPECT_TRUE(allows_in("db-1", IPPROTO_ICMP, "192.168.50.7", icmp(8)));
}

TEST_F(SgRulesTest, EgressModes) {
  // db has no egress list: everything out. web lists its egress.
  EXPECT_TRUE(sg_.egress_allows_all(kBound.at("db-1")));
  EXPECT_FALSE(sg_.egress_allows_all(kBound.at("web-1")));
  EXPECT_FALSE(allows_out("web-1", IPPROTO_TCP, "198.51.100.1", 443));
  // No group at all: nothing in, everything out.
  EXPECT_TRUE(sg_.egress_allows_all(kBound.at("bare")));
  EXPECT_FALSE(allows_in("bare", IPPROTO_TCP, "10.1.1.11", 80));
  EXPECT_FALSE(allows_in("bare", IPPROTO_ICMP, "10.1.1.11", icmp(8)));
  // Empty ingress and egress lists: nothing either way.
  EXPECT_FALSE(sg_.egress_allows_all(kBound.at("jail")));
  EXPECT_FALSE(allows_in("jail", IPPROTO_TCP, "10.1.1.11", 80));
  EXPECT_FALSE(allows_out("jail", IPPROTO_TCP, "10.1.1.11", 80));
}

TEST_F(SgRulesTest, PortsWithTheSameGroupsShareAClass) {
  EXPECT_EQ(sg_.port_class(kBound.at("web-1")), sg_.port_class(kBound.at("web-3")));
  EXPECT_NE(sg_.port_class(kBound.at("web-1")), sg_.port_class(kBound.at("db-1")));
  EXPECT_NE(sg_.port_class(kBound.at("web-1")), SecurityGroupTable::kNoClass);
  EXPECT_EQ(sg_.port_class(9), SecurityGroupTable::kNoClass);  // bound to nothing
  EXPECT_TRUE(allows_in("web-3", IPPROTO_TCP, "203.0.113.9", 443));
}

TEST_F(SgRulesTest, UnknownGroupIsAnError) {
  proto::NodeTables broken = tables_;
  broken.mutable_security_groups()->RemoveLast();
  SecurityGroupTable sg;
  std::string error;
  EXPECT_FALSE(dp::build_security_groups(broken, kBound, sg, error));
  EXPECT_NE(error.find("security group"), std::string::npos) << error;
}

TEST_F(SgRulesTest, BulkClassificationAgreesWithSingle) {
  std::vector<dp::SgKey> keys;
  std::vector<uint32_t> single;
  for (const char* remote : {"10.1.1.11", "10.1.1.12", "10.1.1.30", "192.168.50.1", "203.0.113.1"})
    for (uint16_t port : {22, 53, 80, 5432, 8080})
      for (uint8_t proto : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}})
        for (const char* local : {"web-1", "db-1", "bare"}) {
          if (keys.size() == SecurityGroupTable::kMaxBurst) break;
          keys.push_back(dp::make_sg_key(proto, htonl(ip4(remote)),
                                         sg_.port_class(kBound.at(local)), htons(port)));
          single.push_back(classify(SgDirection::kIngress, local, proto, remote, port));
        }
  std::vector<uint32_t> bulk(keys.size());
  sg_.classify(SgDirection::kIngress, keys.data(), bulk.data(), static_cast<uint32_t>(keys.size()));
  EXPECT_EQ(bulk, single);
  EXPECT_GT(std::count_if(bulk.begin(), bulk.end(), [](uint32_t r) { return r != 0; }), 0);
  EXPECT_GT(std::count(bulk.begin(), bulk.end(), 0u), 0);
}

}  // namespace
}  // namespace weft::test
