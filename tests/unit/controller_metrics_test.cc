// weft-controller's metrics (control/controller/metrics.h): the apply
// histogram waits for every node a version changed, a later ack stands for
// earlier versions, nodes that leave are not waited for, the pending list
// is bounded; the rendered text names nodes by label and passes promtool.

#include <gtest/gtest.h>

#include "control/controller/metrics.h"
#include "tests/unit/promtool.h"

namespace weft::ctl {
namespace {

using Clock = ControllerMetrics::Clock;
using namespace std::chrono_literals;

TEST(ControllerMetrics, AnApplyEndsWithTheLastAck) {
  ControllerMetrics m;
  const auto t0 = Clock::now();
  m.applied(1, {"a", "b"}, {"a", "b", "c"}, t0);
  EXPECT_EQ(m.pending(), 1u);
  m.acked("a", 1, t0 + 10ms);
  EXPECT_EQ(m.apply_seconds().count(), 0u);
  m.acked("c", 1, t0 + 20ms);  // not one it changed
  m.acked("b", 1, t0 + 50ms);
  EXPECT_EQ(m.pending(), 0u);
  ASSERT_EQ(m.apply_seconds().count(), 1u);
  EXPECT_NEAR(m.apply_seconds().sum(), 0.050, 1e-9);
}

TEST(ControllerMetrics, ALaterAckStandsForEarlierVersions) {
  ControllerMetrics m;
  const auto t0 = Clock::now();
  m.applied(1, {"a"}, {"a"}, t0);
  m.applied(2, {"a"}, {"a"}, t0 + 5ms);
  m.acked("a", 2, t0 + 30ms);  // the node skipped straight to 2
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.apply_seconds().count(), 2u);
  // An ack of an older version does not finish a newer apply.
  m.applied(3, {"a"}, {"a"}, t0);
  m.acked("a", 2, t0 + 40ms);
  EXPECT_EQ(m.pending(), 1u);
}

TEST(ControllerMetrics, NodesThatLeaveAreNotWaitedFor) {
  ControllerMetrics m;
  const auto t0 = Clock::now();
  m.applied(1, {"a", "gone"}, {"a", "gone"}, t0);
  m.acked("a", 1, t0 + 1ms);
  EXPECT_EQ(m.pending(), 1u);
  m.applied(2, {}, {"a"}, t0 + 2ms);  // "gone" left the policy
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.apply_seconds().count(), 1u);
}

TEST(ControllerMetrics, PendingAppliesAreBounded) {
  ControllerMetrics m;
  for (uint64_t v = 1; v <= ControllerMetrics::kMaxPending + 10; ++v) m.applied(v, {"away"}, {"away"}, Clock::now());
  EXPECT_EQ(m.pending(), ControllerMetrics::kMaxPending);
  EXPECT_NE(m.render(0, {}).find("\nweft_controller_applies_abandoned_total 10\n"), std::string::npos);
}

TEST(ControllerMetrics, RendersNodesByName) {
  ControllerMetrics m;
  m.put(ControllerMetrics::Result::kApplied);
  m.put(ControllerMetrics::Result::kInvalid);
  m.compiled(0.0003);
  const auto t0 = Clock::now();
  m.applied(5, {"node-a"}, {"node-a", "node-b"}, t0);
  m.acked("node-a", 5, t0 + 3ms);
  NodeStatus a{"node-a", true, "127.0.0.1:4000", 5, 5, true, "", {}};
  NodeStatus b{"node-b", false, "", 4, 4, false, "boom", {}};
  const std::string t = m.render(5, {a, b});
  for (const char* line : {
           "weft_controller_policy_version 5",
           "weft_controller_nodes 2",
           "weft_controller_nodes_connected 1",
           "weft_controller_nodes_in_sync 1",
           "weft_controller_node_connected{node=\"node-b\"} 0",
           "weft_controller_node_applied_version{node=\"node-a\"} 5",
           "weft_controller_node_applied_version{node=\"node-b\"} 4",
           "weft_controller_policy_puts_total{result=\"applied\"} 1",
           "weft_controller_policy_puts_total{result=\"invalid\"} 1",
           "# TYPE weft_controller_apply_seconds histogram",
           "weft_controller_apply_seconds_bucket{le=\"0.004\"} 1",
           "weft_controller_apply_seconds_bucket{le=\"+Inf\"} 1",
           "weft_controller_apply_seconds_count 1",
           "weft_controller_compile_seconds_bucket{le=\"0.0004\"} 1",
           "weft_controller_compile_seconds_count 1",
       })
    EXPECT_NE(t.find(std::string("\n") + line + "\n"), std::string::npos) << "missing: " << line << "\nin:\n" << t;
  test::expect_promtool_accepts(t);
}

}  // namespace
}  // namespace weft::ctl
