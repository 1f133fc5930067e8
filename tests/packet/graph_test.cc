// The pipeline graph's wiring (dataplane/weftd/graph.cc): weftd's graphs are
// complete, check_graph names what is not, and a packet sent along an edge
// nobody wired is dropped and counted as internal_error where it happened,
// never lost or sent anywhere.

#include <gtest/gtest.h>

#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/policy_gate.h"
#include "dataplane/pipeline/xconnect.h"
#include "dataplane/weftd/graph.h"
#include "tests/packet/pipeline_fixture.h"

namespace weft::test {
namespace {

using dp::NodeId;

TEST(Graph, WeftdsGraphsHaveEveryEdgeWired) {
  const uint16_t ports[] = {0, 1, 2};
  for (auto mode : {dp::ForwardingMode::kPolicy, dp::ForwardingMode::kXconnect}) {
    std::string error;
    auto g = dp::build_worker_graph(mode, 0, ports, {}, &error);
    ASSERT_NE(g, nullptr) << error;
    EXPECT_EQ(dp::check_graph(g->pipeline), "") << dp::forwarding_mode_name(mode);
  }
}

TEST(Graph, CheckGraphNamesTheStageAndEdgeLeftUnwired) {
  dp::Pipeline p;
  dp::ParseStage parse;
  dp::PolicyGateStage gate;
  p.set_stage(NodeId::kParse, &parse);
  p.set_stage(NodeId::kPolicyGate, &gate);
  parse.wire(dp::ParseNext::kParsed, NodeId::kPolicyGate);
  EXPECT_EQ(dp::check_graph(p), "policy_gate: edge 'open' is not wired");
  gate.wire(dp::PolicyGateNext::kOpen, NodeId::kIngress);
  EXPECT_EQ(dp::check_graph(p), "policy_gate: edge 'open' leads to a node with no stage");
  gate.wire(dp::PolicyGateNext::kOpen, NodeId::kParse);
  EXPECT_EQ(dp::check_graph(p), "policy_gate: edge 'open' does not lead forward");
  gate.wire(dp::PolicyGateNext::kOpen, NodeId::kTx);
  EXPECT_EQ(dp::check_graph(p), "");
}

class UnwiredEdgeTest : public PipelineFixture {};

TEST_F(UnwiredEdgeTest, APacketSentAlongAnUnwiredEdgeIsAnInternalError) {
  dp::ParseStage parse;  // its one edge never wired
  set_stage(NodeId::kParse, parse);
  run(Frame().eth(mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")).ipv4(1, 2).udp(1, 2).bytes());
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops_at(NodeId::kParse, dp::DropReason::internal_error), 1u) << drop_summary();
  EXPECT_EQ(total_drops(), 1u);
}

TEST_F(UnwiredEdgeTest, DropsAreCountedAtTheStageThatDropped) {
  dp::ParseStage parse;
  dp::XconnectStage xconnect;  // port 0 has no peer: no_route, at xconnect
  parse.wire(dp::ParseNext::kParsed, NodeId::kXconnect);
  xconnect.wire(dp::XconnectNext::kOut, NodeId::kTx);
  set_stage(NodeId::kParse, parse);
  set_stage(NodeId::kXconnect, xconnect);
  run(Bytes(10));  // a runt: truncated_eth, at parse
  run(Frame().eth(mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")).ipv4(1, 2).udp(1, 2).bytes());
  EXPECT_EQ(drops_at(NodeId::kParse, dp::DropReason::truncated_eth), 1u);
  EXPECT_EQ(drops_at(NodeId::kXconnect, dp::DropReason::no_route), 1u);
  EXPECT_EQ(drops_at(NodeId::kParse, dp::DropReason::no_route), 0u);
  EXPECT_EQ(drops(dp::DropReason::internal_error), 0u);
}

}  // namespace
}  // namespace weft::test
