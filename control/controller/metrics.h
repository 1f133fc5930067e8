#pragma once
// weft-controller's Prometheus metrics (`--metrics ADDR:PORT`, GET /metrics):
// the nodes and the versions they run, and how long a change takes.
//
//   weft_controller_apply_seconds   from the PUT that made a version to the
//                                   ack of the last node whose tables it
//                                   changed: what an operator waits for
//   weft_controller_compile_seconds compiling one accepted PUT's tables
//
// The controller calls it on each step of a change and renders it with the
// southbound server's view of the nodes:
//
//   metrics.put_started(t0);  ... metrics.compiled(seconds);
//   metrics.applied(version, changed_nodes, all_nodes, t0);   // after publish
//   metrics.acked(node, version, now);                        // each ok ack
//   std::string text = metrics.render(version, southbound.status());
//
// An apply waits for every node it changed; a later version's ack stands
// for the earlier ones (the node runs tables that include them). A node
// that leaves the policy is no longer waited for. At most kMaxPending
// applies are awaited at once; older ones are dropped unobserved (nodes
// away for a long time), counted in weft_controller_applies_abandoned_total.
//
// Threads: the controller's io_context thread only.

#include <chrono>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/prometheus/text_format.h"
#include "control/server/node_status.h"

namespace weft::ctl {

class ControllerMetrics {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxPending = 64;

  enum class Result { kApplied, kUnchanged, kInvalid, kFailed, kCount };

  ControllerMetrics();

  // A PUT's outcome.
  void put(Result r) { ++puts_[static_cast<size_t>(r)]; }
  void compiled(double seconds) { compile_.observe(seconds); }
  // `version`, made by a PUT that arrived at `start`, changed the tables of
  // `changed`; `in_policy` is every node of the policy now.
  void applied(uint64_t version, const std::vector<std::string>& changed,
               const std::vector<std::string>& in_policy, Clock::time_point start);
  // `node` acked `version` as applied.
  void acked(const std::string& node, uint64_t version, Clock::time_point now);

  size_t pending() const { return pending_.size(); }
  const prom::Histogram& apply_seconds() const { return apply_; }
  const prom::Histogram& compile_seconds() const { return compile_; }

  std::string render(uint64_t policy_version, const std::vector<NodeStatus>& nodes) const;

 private:
  struct Pending {
    uint64_t version;
    Clock::time_point start;
    std::set<std::string> nodes;  // not yet acked
  };
  void complete_empty(Clock::time_point now);

  std::deque<Pending> pending_;  // by version
  prom::Histogram apply_;
  prom::Histogram compile_;
  uint64_t puts_[static_cast<size_t>(Result::kCount)] = {};
  uint64_t abandoned_ = 0;
};

}  // namespace weft::ctl
