// The trace engine (dataplane/trace/) through weftd's real policy-mode
// graph on a node compiled from a policy: each stage's decision, the
// security-group rule and route behind it with the policy line that wrote
// them, the verdict; replies of an established connection; senders on
// other nodes (through the tunnel); and packets the dataplane refuses.

#include <gtest/gtest.h>

#include <algorithm>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/trace/offline_node.h"
#include "dataplane/trace/trace_node.h"
#include "dataplane/trace/trace_report.h"
#include "tests/packet/eal_env.h"

namespace weft::test {
namespace {

using nlohmann::json;

// Line numbers matter: the tests check the positions the trace names.
const char* const kPolicy = R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
networks:
  - name: blue
    vni: 5001
    subnets:
      - {name: web, cidr: 10.1.1.0/24}
      - {name: db, cidr: 10.1.2.0/24}
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: 80, from: 0.0.0.0/0}
  - name: db
    ingress:
      - {protocol: tcp, ports: 5432, from_group: web}
ports:
  - {name: web-1, network: blue, subnet: web, node: node-a, ip: 10.1.1.10, security_groups: [web]}
  - {name: db-1, network: blue, subnet: db, node: node-a, ip: 10.1.2.20, security_groups: [db]}
  - {name: db-2, network: blue, subnet: db, node: node-b, ip: 10.1.2.21, security_groups: [db]}
)";

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    auto model = policy::load_policy_text(kPolicy, "trace.yaml", diags);
    ASSERT_TRUE(model.has_value()) << diags.format();
    tables_ = policy::compile_node(*model, "node-a");
    sources_ = policy::compile_sources(*model, "node-a");
    std::string error;
    snap_ = dp::offline_snapshot(tables_, error);
    ASSERT_NE(snap_, nullptr) << error;
  }

  json trace(const std::string& packet, const std::string& from = {}, bool reply = false) {
    std::string error;
    auto p = dp::parse_trace_packet(packet, error);
    EXPECT_TRUE(p.has_value()) << error;
    if (!p) return {};
    auto t = dp::trace_on_node(*snap_, tables_, packet_pool(), {*p, from, reply}, error);
    EXPECT_TRUE(t.has_value()) << error;
    if (!t) return {};
    return dp::trace_json(*t, "node-a", reply, &sources_);
  }

  static const json* step(const json& t, std::string_view stage) {
    for (const json& s : t["steps"])
      if (s["stage"] == stage) return &s;
    return nullptr;
  }
  static std::vector<std::string> sources(const json& s) {
    std::vector<std::string> out;
    if (s.contains("refs"))
      for (const json& r : s["refs"]) out.push_back(r.value("source", ""));
    return out;
  }

  proto::NodeTables tables_;
  proto::NodeSources sources_;
  std::unique_ptr<dp::Snapshot> snap_;
};

TEST_F(TraceTest, AllowedConnectionNamesRouteAndRuleLines) {
  const json t = trace("tcp 10.1.1.10:40000 > 10.1.2.20:5432", "web-1");
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["verdict"][0], json({{"packet", 0}, {"delivered", true}, {"port", "db-1"}, {"node", "node-a"}}));
  std::vector<std::string> stages;
  for (const json& s : t["steps"]) stages.push_back(s["stage"]);
  EXPECT_EQ(stages, (std::vector<std::string>{"parse", "policy_gate", "ingress", "port_security", "flow_lookup",
                                              "l2_lookup", "load_balancer", "router", "security_group", "nat",
                                              "flow_commit", "rewrite"}))
      << t.dump(2);
  const json* router = step(t, "router");
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(sources(*router), std::vector<std::string>{"trace.yaml:10:9"}) << router->dump();
  const json* sg = step(t, "security_group");
  ASSERT_NE(sg, nullptr);
  // web-1's groups do not restrict egress; db's first ingress rule lets it in.
  EXPECT_EQ(sources(*sg), (std::vector<std::string>{"", "trace.yaml:17:9"})) << sg->dump();
  EXPECT_EQ(sg->value("decision", ""), "commit");
}

TEST_F(TraceTest, DeniedConnectionDropsAtTheSecurityGroup) {
  const json t = trace("tcp 10.1.1.10:40000 > 10.1.2.20:22", "web-1");
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["verdict"][0],
            json({{"packet", 0}, {"delivered", false}, {"reason", "sg_ingress_denied"}, {"stage", "security_group"}}));
  const json* sg = step(t, "security_group");
  ASSERT_NE(sg, nullptr);
  EXPECT_EQ(sg->value("decision", ""), "drop");
  EXPECT_NE(sg->dump().find("no ingress rule of port db-1"), std::string::npos) << sg->dump();
  // No rule to name: the denial points at the list that has none for it.
  EXPECT_EQ(sources(*sg), (std::vector<std::string>{"", "", "trace.yaml:17:7"})) << sg->dump();
  EXPECT_EQ(t["steps"].back()["stage"], "security_group") << "nothing runs after the drop";
}

TEST_F(TraceTest, ReplyOfAnEstablishedConnectionPassesWithoutARule) {
  const json t = trace("tcp 10.1.1.10:40000 > 10.1.2.20:5432", "web-1", /*reply=*/true);
  EXPECT_EQ(t["sender"], "db-1");
  EXPECT_EQ(t["packet"], "tcp 10.1.2.20:5432 > 10.1.1.10:40000 flags SA");
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["verdict"][0]["port"], "web-1");
  const json* sg = step(t, "security_group");
  ASSERT_NE(sg, nullptr) << t.dump(2);
  EXPECT_FALSE(sg->contains("refs")) << "a reply is judged by no rule: " << sg->dump();
}

TEST_F(TraceTest, WithoutTheConnectionTheSameSegmentIsJudgedAsAnOpening) {
  // db-1 may not open connections to web-1 port 40000: the reply above
  // passes only because the trace opened the connection first.
  const json t = trace("tcp 10.1.2.20:5432 > 10.1.1.10:40000 flags SA", "db-1");
  EXPECT_EQ(t["verdict"][0]["delivered"], false) << t.dump(2);
}

TEST_F(TraceTest, ToAPortOfAnotherNodeLeavesThroughItsVtep) {
  const json t = trace("tcp 10.1.1.10:40000 > 10.1.2.21:5432");
  EXPECT_EQ(t["sender"], "web-1") << "found by its address";
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["verdict"][0], json({{"packet", 0}, {"delivered", true}, {"vtep", "172.31.0.2"}, {"node", "node-b"}}));
  const json* encap = step(t, "vxlan_encap");
  ASSERT_NE(encap, nullptr);
  EXPECT_NE(encap->value("detail", "").find("VNI 5001"), std::string::npos);
}

TEST_F(TraceTest, FromAPortOfAnotherNodeArrivesThroughTheTunnel) {
  const json t = trace("tcp 10.1.2.21:40000 > 10.1.1.10:80", "db-2");
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_EQ(t["verdict"][0]["port"], "web-1") << t.dump(2);
  ASSERT_NE(step(t, "vxlan_decap"), nullptr) << t.dump(2);
  EXPECT_EQ(sources(*step(t, "security_group")), std::vector<std::string>{"trace.yaml:14:9"});
}

TEST_F(TraceTest, IcmpIsJudgedByTheRulesToo) {
  const json t = trace("icmp 10.1.1.10 > 10.1.2.20", "web-1");
  EXPECT_EQ(t["verdict"][0]["reason"], "sg_ingress_denied") << t.dump(2);
  const json to_router = trace("icmp 10.1.1.10 > 10.1.1.1", "web-1");
  EXPECT_EQ(to_router["verdict"][0]["port"], "web-1") << "the gateway answers ping: " << to_router.dump(2);
}

TEST_F(TraceTest, SpoofedSourceDropsAtPortSecurity) {
  const json t = trace("tcp 10.1.1.99:40000 > 10.1.2.20:5432", "web-1");
  EXPECT_EQ(t["verdict"][0]["stage"], "port_security") << t.dump(2);
}

TEST_F(TraceTest, VlanTaggedFrameIsTracedToItsVerdict) {
  const json t = trace("tcp 10.1.1.10:40000 > 10.1.2.20:5432 vlan 100", "web-1");
  ASSERT_EQ(t["verdict"].size(), 1u) << t.dump(2);
  EXPECT_NE(step(t, "parse")->value("detail", "").find("VLAN 100"), std::string::npos) << t.dump(2);
}

TEST_F(TraceTest, UnknownSenderIsAnError) {
  std::string error;
  auto p = dp::parse_trace_packet("tcp 10.9.9.9:1 > 10.1.2.20:5432", error);
  ASSERT_TRUE(p);
  EXPECT_FALSE(dp::trace_on_node(*snap_, tables_, packet_pool(), {*p, "", false}, error));
  EXPECT_NE(error.find("--from"), std::string::npos) << error;
  EXPECT_FALSE(dp::trace_on_node(*snap_, tables_, packet_pool(), {*p, "nope", false}, error));
  EXPECT_NE(error.find("'nope'"), std::string::npos) << error;
}

TEST(TracePacketTest, ParsesTheSyntaxAndRefusesWhatIsNot) {
  std::string error;
  auto p = dp::parse_trace_packet("tcp 10.1.1.10:1234 > 10.1.2.20:5432 flags A ttl 3", error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(dp::format_trace_packet(*p), "tcp 10.1.1.10:1234 > 10.1.2.20:5432 flags A");
  EXPECT_EQ(p->ttl, 3);
  p = dp::parse_trace_packet("icmp 10.1.1.10 > 10.1.2.20 type 3 code 4", error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(dp::format_trace_packet(*p), "icmp 10.1.1.10 > 10.1.2.20 type 3 code 4");
  for (const char* bad : {"", "tcp 10.1.1.10 > 10.1.2.20:1", "sctp 1.1.1.1:1 > 2.2.2.2:2", "icmp 1.1.1.1:3 > 2.2.2.2",
                          "tcp 1.1.1.1:1 > 2.2.2.2:0", "tcp 1.1.1.1:1 > 2.2.2.2:2 flags Q", "udp 1.1.1.1:1 > 2.2.2.2:2 vlan",
                          "udp 1.1.1.1:1 > 2.2.2.2:2 vlan 5000", "udp 1.1.1.1:1 < 2.2.2.2:2", "udp 1.1.1:1 > 2.2.2.2:2"}) {
    error.clear();
    EXPECT_FALSE(dp::parse_trace_packet(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace weft::test
