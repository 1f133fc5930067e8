#pragma once
// The node the flow-cache and security-group packet tests forward on: the
// overlay tests' node-a (overlay_topology.h: the same ports, addresses and
// underlay) with a policy that gives its ports security groups, run
// through weftd's own policy-mode graph (build_worker_graph) with a
// connection table on a fake clock of one tick per millisecond.
//
//   network red (VNI 1001), groups:
//     red-1  node-a port 1  10.0.1.10  [web]   web:  in  tcp 80, 8000-8080 from anywhere
//     red-2  node-a port 2  10.0.1.12  [db]               icmp echo from 10.0.0.0/8
//     red-3  node-b         10.0.1.11  [web]         out tcp 5432 to group db
//                                                         udp 53 to 10.0.1.0/24
//                                                   db:   in  tcp 5432 from group web
//                                                         udp 53 from anywhere
//                                                         (no egress list: all out)
//   network blue (VNI 1002), no groups:
//     blue-1 node-a port 3  10.0.1.10             nothing in, everything out
//     blue-3 node-b         10.0.1.11
//
// apply() compiles a policy (the one above, or a variant), builds a new
// snapshot from it with the real builder and makes it current under the
// next generation, as the publisher would: the connection table survives,
// as it does in weftd.
//
// Test code; the EAL's main lcore.

#include <memory>
#include <string>
#include <vector>

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/weftd/graph.h"
#include "tests/packet/overlay_topology.h"
#include "tests/packet/pipeline_fixture.h"

namespace weft::test {

// The policy above; `web_ports`: the TCP ports group web lets in;
// `red3_node`: where red-3 runs (node-d: 172.31.0.3, on the underlay).
std::string sg_policy(const std::string& web_ports = "80,8000-8080",
                      const std::string& red3_node = "node-b");

inline const uint32_t kVtepD = ip4("172.31.0.3");
inline const Mac kNodeDMac = mac("02:dd:00:00:00:04");

inline constexpr uint64_t kMs = 1;  // fake clock tick
inline constexpr uint64_t kSec = 1000 * kMs;

// What one frame became.
struct Outcome {
  std::vector<Captured> sent;
  std::string drops;  // drop_summary(): "" when nothing was dropped

  bool delivered_to(uint16_t port) const { return sent.size() == 1 && sent[0].port == port; }
};

class FlowCacheFixture : public PipelineFixture {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Rebuilds the worker graph with a table of `max_connections` (the
  // connections made so far are gone).
  void build_graph(uint32_t max_connections);
  // Compiles `yaml` for node-a and makes it current (next generation).
  void apply(const std::string& yaml);
  // The snapshot apply() builds on: node-a's ports (overlay_base()); a
  // fixture with more ports (the gateway's external one) adds them.
  virtual std::unique_ptr<dp::Snapshot> base() const { return overlay_base(); }
  // Makes node-a's `tables` current (next generation): tables a compiler
  // would not make, as a controller might send them.
  void apply_tables(const proto::NodeTables& tables);
  // The fake clock; keeps node-b's and node-d's underlay MACs confirmed.
  void at(uint64_t ms);
  uint64_t now() const { return now_; }

  // Sends one frame in on `in_port` and reports what came out; stats()
  // then count this frame alone.
  Outcome send(const Bytes& frame, uint16_t in_port);

  dp::ConnTable& conntrack() { return *graph_->conntrack; }
  dp::Snapshot& snapshot() { return *snap_; }

 private:
  std::unique_ptr<dp::WorkerGraph> graph_;
  std::unique_ptr<dp::Snapshot> snap_;
  std::vector<std::unique_ptr<dp::Snapshot>> retired_;  // earlier generations
  uint32_t generation_ = 0;
  uint64_t now_ = 1;
};

// Frames of the topology. `from` a VM (local, or behind node-b when
// wrapped in from_node_b()).
Bytes tcp_frame(const Addr& from, const Addr& to, uint16_t sport, uint16_t dport, uint8_t flags,
                size_t payload = 0);
Bytes udp_frame(const Addr& from, const Addr& to, uint16_t sport, uint16_t dport);
Bytes icmp_frame(const Addr& from, const Addr& to, uint8_t type, uint8_t code, uint16_t id = 7);
// The VXLAN packet node-b sends this node for a red (or `vni`) frame.
Bytes from_node_b(const Bytes& inner, uint32_t vni = kRedVni);
// The inner frame of a packet that left on the underlay.
Bytes inner_of(const Captured& c);

}  // namespace weft::test
