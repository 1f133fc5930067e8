#pragma once
// Which stage runs at each pipeline node: the one place that wires weftd's
// packet path. Each worker gets its own graph (stages may keep per-worker
// state such as a flow cache), built on the main lcore before it starts.
//
// Adding a stage: give it a NodeId in stage.h where it belongs in the path,
// construct it here, and point the stage before it at it.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class ForwardingMode : uint8_t {
  kPolicy,    // parse -> policy gate -> L2 overlay (ingress, decap / port security, ARP,
              // L2 lookup, flood, encap) -> tx
  kXconnect,  // benchmarking: parse -> fixed port-to-port patch panel -> tx
};

constexpr std::string_view forwarding_mode_name(ForwardingMode m) {
  return m == ForwardingMode::kXconnect ? "xconnect" : "policy";
}

struct WorkerGraph {
  Pipeline pipeline;
  NodeId entry = NodeId::kParse;
  std::vector<std::unique_ptr<Stage>> stages;  // owned; the pipeline borrows them
};

// `ports` are every port the worker polls, underlay first; the xconnect
// patch panel pairs them in this order.
std::unique_ptr<WorkerGraph> build_worker_graph(ForwardingMode mode, uint16_t underlay_port,
                                                std::span<const uint16_t> ports);

}  // namespace weft::dp
