#pragma once
// weftctl's offline trace: the policy's nodes compiled and built on
// demand (dataplane/trace/offline_node.h), each with a trace session of
// its own, and a packet followed from node to node: what one node sends
// into a tunnel enters the next node's underlay as those very bytes, so a
// path across nodes is checked by each node's real stages (egress rules
// at the source node, ingress rules at the destination node).
//
// `weftctl trace` and `weftctl can-reach` use it. Single-threaded, after
// start_trace_eal().

#include <rte_mempool.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "control/model/model.h"
#include "dataplane/trace/trace_node.h"
#include "dataplane/trace/trace_report.h"

namespace weft::cli {

// One node's part of a path.
struct TraceHop {
  std::string node;
  dp::NodeTrace trace;
  nlohmann::json json;  // trace_json(), with the policy positions
};

class OfflineNodes {
 public:
  OfflineNodes(const policy::Model& m, rte_mempool* pool) : model_(m), pool_(pool) {}

  // The node's compiled tables; null, with `error`, when it cannot be built.
  const proto::NodeTables* tables(const std::string& node, std::string& error);
  // The node a port of the policy is on; empty when there is no such port.
  std::string node_of_port(const std::string& port) const;
  std::string node_of_address(uint32_t ip) const;

  // `packet` sent by `sender` (a port), traced on `node` (its own node
  // unless given) and, with `follow`, on every node a tunnel takes it to.
  // Connections stay in each node's session until forget().
  std::optional<std::vector<TraceHop>> trace(const std::string& node, const std::string& sender,
                                             const dp::TracePacket& packet, bool follow, std::string& error);
  // Fresh connection tables on every node.
  void forget() { sessions_.clear(); }

 private:
  struct Built {
    proto::NodeTables tables;
    proto::NodeSources sources;
    std::unique_ptr<dp::Snapshot> snap;
  };
  Built* built(const std::string& node, std::string& error);
  dp::TraceSession* session(const std::string& node, Built& b, std::string& error);

  const policy::Model& model_;
  rte_mempool* pool_;
  std::map<std::string, std::unique_ptr<Built>> built_;
  std::map<std::string, std::unique_ptr<dp::TraceSession>> sessions_;
};

}  // namespace weft::cli
