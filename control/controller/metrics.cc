#include "control/controller/metrics.h"

#include <algorithm>

namespace weft::ctl {
namespace {

using prom::MetricType;

constexpr const char* kResultNames[] = {"applied", "unchanged", "invalid", "failed"};
static_assert(std::size(kResultNames) == static_cast<size_t>(ControllerMetrics::Result::kCount));

}  // namespace

ControllerMetrics::ControllerMetrics()
    // 1 ms .. 65 s: a change on a few nodes takes milliseconds, a node
    // away for a while shows as the long tail.
    : apply_(prom::Histogram::exponential(0.001, 2, 17)),
      // 100 us .. 6.5 s.
      compile_(prom::Histogram::exponential(0.0001, 2, 17)) {}

void ControllerMetrics::applied(uint64_t version, const std::vector<std::string>& changed,
                                const std::vector<std::string>& in_policy, Clock::time_point start) {
  const std::set<std::string> members(in_policy.begin(), in_policy.end());
  for (Pending& p : pending_)
    std::erase_if(p.nodes, [&](const std::string& n) { return !members.contains(n); });
  if (!changed.empty()) {
    pending_.push_back({version, start, std::set<std::string>(changed.begin(), changed.end())});
    while (pending_.size() > kMaxPending) {
      pending_.pop_front();
      ++abandoned_;
    }
  }
  complete_empty(Clock::now());
}

void ControllerMetrics::acked(const std::string& node, uint64_t version, Clock::time_point now) {
  for (Pending& p : pending_)
    if (p.version <= version) p.nodes.erase(node);
  complete_empty(now);
}

void ControllerMetrics::complete_empty(Clock::time_point now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!it->nodes.empty()) {
      ++it;
      continue;
    }
    apply_.observe(std::chrono::duration<double>(now - it->start).count());
    it = pending_.erase(it);
  }
}

std::string ControllerMetrics::render(uint64_t policy_version, const std::vector<NodeStatus>& nodes) const {
  prom::TextWriter w;
  constexpr auto kGauge = MetricType::kGauge;
  constexpr auto kCounter = MetricType::kCounter;

  w.family("weft_controller_policy_version", "Version of the policy in force (0: none yet).", kGauge);
  w.sample("weft_controller_policy_version", {}, policy_version);
  const auto connected = std::count_if(nodes.begin(), nodes.end(), [](const NodeStatus& n) { return n.connected; });
  const auto in_sync = std::count_if(nodes.begin(), nodes.end(), [](const NodeStatus& n) { return n.in_sync; });
  w.family("weft_controller_nodes", "Nodes of the policy in force.", kGauge);
  w.sample("weft_controller_nodes", {}, nodes.size());
  w.family("weft_controller_nodes_connected", "Nodes with a southbound session.", kGauge);
  w.sample("weft_controller_nodes_connected", {}, connected);
  w.family("weft_controller_nodes_in_sync", "Connected nodes that acked their current tables.", kGauge);
  w.sample("weft_controller_nodes_in_sync", {}, in_sync);
  if (!nodes.empty()) {
    w.family("weft_controller_node_connected", "1 while the node has a southbound session.", kGauge);
    for (const NodeStatus& n : nodes) w.sample("weft_controller_node_connected", {{"node", n.name}}, n.connected ? 1 : 0);
    w.family("weft_controller_node_applied_version", "The last policy version the node acked as applied.", kGauge);
    for (const NodeStatus& n : nodes)
      w.sample("weft_controller_node_applied_version", {{"node", n.name}}, n.applied_version);
    w.family("weft_controller_node_tables_version", "The policy version that last changed the node's tables.",
             kGauge);
    for (const NodeStatus& n : nodes)
      w.sample("weft_controller_node_tables_version", {{"node", n.name}}, n.tables_version);
    w.family("weft_controller_node_in_sync", "1 while the node is connected and acked its current tables.", kGauge);
    for (const NodeStatus& n : nodes) w.sample("weft_controller_node_in_sync", {{"node", n.name}}, n.in_sync ? 1 : 0);
  }
  w.family("weft_controller_policy_puts_total", "PUT /v1/policy requests, by outcome.", kCounter);
  for (size_t r = 0; r < std::size(kResultNames); ++r)
    w.sample("weft_controller_policy_puts_total", {{"result", kResultNames[r]}}, puts_[r]);
  w.family("weft_controller_apply_seconds",
           "Seconds from a PUT to the ack of the last node whose tables it changed.", MetricType::kHistogram);
  w.histogram("weft_controller_apply_seconds", {}, apply_);
  w.family("weft_controller_compile_seconds", "Seconds compiling the tables of an accepted PUT.",
           MetricType::kHistogram);
  w.histogram("weft_controller_compile_seconds", {}, compile_);
  w.family("weft_controller_applies_pending", "Applied versions still waiting for a node's ack.", kGauge);
  w.sample("weft_controller_applies_pending", {}, pending_.size());
  w.family("weft_controller_applies_abandoned_total",
           "Applies no longer awaited (more than 64 pending): never observed in the histogram.", kCounter);
  w.sample("weft_controller_applies_abandoned_total", {}, abandoned_);
  return w.take();
}

}  // namespace weft::ctl
