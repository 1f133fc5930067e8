#pragma once
// Which stage runs at each pipeline node: the one place that wires weftd's
// packet path. Each worker gets its own graph (stages may keep per-worker
// state such as a flow cache), built on the main lcore before it starts.
//
// Adding a stage: give it a NodeId in stage.h where it belongs in the path,
// construct it here, wire its edges and the edges that lead to it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/dhcp/dhcp_stage.h"
#include "dataplane/handoff/handoff_mesh.h"
#include "dataplane/l3/token_bucket.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/portsec/port_security.h"
#include "dataplane/qos/qos_stage.h"

namespace weft::dp {

class ProbeChannel;  // dataplane/lb/probe_channel.h

enum class ForwardingMode : uint8_t {
  kPolicy,    // parse -> policy gate -> L2 overlay (ingress, decap / port security, ARP,
              // flow cache, L2 lookup, flood, security groups, encap) -> tx
  kXconnect,  // benchmarking: parse -> fixed port-to-port patch panel -> tx
};

constexpr std::string_view forwarding_mode_name(ForwardingMode m) {
  return m == ForwardingMode::kXconnect ? "xconnect" : "policy";
}

struct WorkerGraph {
  Pipeline pipeline;
  NodeId entry = NodeId::kParse;
  // The worker's connection table, which is its flow cache (policy mode);
  // its stages hold references, so it outlives them.
  std::unique_ptr<ConnTable> conntrack;
  std::vector<std::unique_ptr<Stage>> stages;  // owned; the pipeline borrows them
  const DhcpStage* dhcp = nullptr;             // its counters (policy mode)
  // The ICMP error limit, when GraphOptions gave none (a graph of its own).
  std::unique_ptr<TokenBucket> own_icmp_limit;
};

struct GraphOptions {
  // The flow cache's table (policy mode). tsc_hz 0: rte_get_tsc_hz().
  ConnTableConfig conntrack;
  // The node's limit on ICMP errors, shared by every worker's graph
  // (borrowed); null: the graph makes one of its own at the default rate.
  TokenBucket* icmp_limit = nullptr;
  // Broadcast and multicast from each vNIC (port security); tsc_hz 0:
  // the connection table's.
  PortSecurityStage::BroadcastLimit broadcast_limit = PortSecurityStage::kDefaultBroadcastLimit;
  // The QoS meters (qos/qos_stage.h); tsc_hz 0: the connection table's.
  // share: how many workers the node's rates are split over.
  QosStage::Config qos;
  // Several workers: this worker's end of the handoff rings (borrowed).
  // Set, every packet for the flow cache passes kHandoff first and goes to
  // its connection's owner (handoff/handoff_stage.h); null: one worker.
  HandoffEndpoint* handoff = nullptr;
  // Where kLbProbeReply hands the health checks' replies (lb/probe_channel.h,
  // borrowed); null: they are consumed unread (traces, tests).
  ProbeChannel* probes = nullptr;
};

// `ports` are every port the worker polls, underlay first; the xconnect
// patch panel pairs them in this order. Null, with `error`, when the
// connection table cannot be allocated.
// Empty when every stage of `p` has all its edges wired, each forward to a
// node that has a stage (or kTx, kDrop); else what is wrong.
std::string check_graph(const Pipeline& p);

std::unique_ptr<WorkerGraph> build_worker_graph(ForwardingMode mode, uint16_t underlay_port,
                                                std::span<const uint16_t> ports,
                                                const GraphOptions& options = {},
                                                std::string* error = nullptr);

}  // namespace weft::dp
