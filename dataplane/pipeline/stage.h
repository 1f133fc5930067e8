#pragma once
// The stage interface every pipeline stage implements, and its next edges.
//
// A stage takes a burst and decides, for every packet, where it goes next:
// along one of its own named edges (`send(m, Next::kSomething)`) or to the
// drop node (`drop(m, reason)`). It never frees or transmits packets
// itself; the Pipeline (pipeline.h) moves them along the graph, transmits
// at kTx and frees and counts at kDrop.
//
// Edges. Each stage declares what can follow it as its own `enum class
// Next` (ending in kCount) and derives from `StageWith<Next>`; it never
// names another stage. Which node an edge leads to is decided in one
// place, the graph table (dataplane/weftd/graph.cc), which checks that
// every edge of every stage is wired before a worker starts. An edge left
// unwired anyway leads to kDrop with no reason, counted as internal_error.
//
// Stages run on worker lcores only, are noexcept, and read tables only
// through `StageCtx::snap`, which stays valid for the whole burst (RCU).

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

struct Snapshot;     // the node's compiled tables, see dataplane/tables/snapshot.h
struct WorkerStats;  // dataplane/pipeline/worker_stats.h
class Pipeline;      // dataplane/pipeline/pipeline.h
class Tracer;        // dataplane/pipeline/trace.h

// Graph nodes, in topological order: a packet may only move to a node with
// a larger id. kTx and kDrop are terminal. Insert new stages where they
// belong in the packet's path.
enum class NodeId : uint8_t {
  kParse = 0,
  kPolicyGate,  // drops everything as no_policy until a policy is applied
  kXconnect,  // fixed port-to-port patch panel (benchmarks, standalone tests)
  // L2 overlay (dataplane/{overlay,underlay,vxlan,portsec,arp,l2}/)
  kIngress,       // by ingress port: vNIC frames, tunnel packets, underlay ARP
  kUnderlayArp,   // ARP on the underlay: answer for the VTEP IP, learn neighbors
  kVxlanDecap,    // tunnel packets from known peers to known VNIs -> inner frame
  kExternalIn,    // the gateway's external port: ARP, forged and martian packets (gateway/)
  kPortSecurity,  // vNIC frames: source MAC and IP must be the port's
  kArpResponder,  // ARP suppression: known addresses answered locally
  kDhcp,          // DHCP from a VM: answered by the node (dhcp/)
  kLbProbeReply,  // replies to the load balancers' health probes: to the prober (lb/)
  kHandoff,       // several workers: a packet to the worker that owns its connection (handoff/)
  kFlowLookup,    // flow cache: a known connection jumps to the tail (flowcache/)
  kTunnelSource,  // decapsulated frames the cache did not take: may the peer send as their source
  kL2Lookup,      // (VNI, destination MAC) -> local port, remote VTEP or flood
  kLoadBalancer,  // new connections to a VIP: a backend, DNAT (lb/)
  kRouter,        // frames for the router MAC: the network's FIB (l3/)
  kGatewayIn,     // new connections from outside: to the floating IP's port, replies to the VM (gateway/)
  kFlood,         // broadcast and unknown unicast: one copy per flood-list member
  kSecurityGroupFlood,  // each flood copy judged alone by the security groups (acl/)
  kSecurityGroup,  // new connections: the ports' security groups decide (acl/)
  kNat,            // the gateway's translation bound to a new connection; stale ones checked (gateway/)
  kFlowCommit,     // the walk's result recorded in the connection's entry (flowcache/)
  // The tail every forwarded packet ends in, from a walk or a cache hit:
  kRewrite,       // MACs, TTL, addresses and ports, checksums (rewrite/)
  kIcmpError,     // what the router will not forward: an ICMP error to the sender (l3/)
  kQos,           // the ports' QoS limits and classes (qos/)
  kVxlanEncap,    // frames for a remote VTEP -> VXLAN on the underlay
  kExternalOut,   // out of the gateway's external port: next hop's MAC, VLAN tag (gateway/)
  kTx,
  kDrop,
  kCount
};
inline constexpr size_t kNodeCount = static_cast<size_t>(NodeId::kCount);

// Node names, as counters and traces show them: the name of the stage each
// node runs in weftd's graph.
inline constexpr std::array<std::string_view, kNodeCount> kNodeNames = {
    "parse",         "policy_gate", "xconnect",    "ingress",
    "underlay_arp",  "vxlan_decap", "external_in", "port_security", "arp_responder",
    "dhcp",          "lb_probe_reply", "handoff", "flow_lookup", "tunnel_source", "l2_lookup", "load_balancer", "router", "gateway_in",
    "flood",         "security_group_flood", "security_group", "nat", "flow_commit",
    "rewrite",       "icmp_error",  "qos",         "vxlan_encap", "external_out", "tx",
    "drop",
};
constexpr std::string_view node_name(NodeId id) { return kNodeNames[static_cast<size_t>(id)]; }

struct StageCtx {
  const Snapshot* snap = nullptr;  // may be null before the first policy
  uint64_t now_tsc = 0;            // rte_rdtsc() at burst start; tests pass a fake clock
  WorkerStats* stats = nullptr;
  rte_mempool* pool = nullptr;     // for packets a stage creates (replies, replicas)
  Pipeline* pipeline = nullptr;    // the running pipeline, set by Pipeline::run: for enqueue()
  Tracer* tracer = nullptr;        // set only by a trace's own pipeline (trace.h); never on a worker
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept = 0;

  // The stage's next edges, by their index in its Next enum: their names,
  // and the node each leads to. For the graph's wiring check and traces.
  virtual std::span<const std::string_view> edge_names() const = 0;
  virtual NodeId edge(size_t index) const = 0;
  virtual bool wired(size_t index) const = 0;
};

inline void drop(rte_mbuf* m, DropReason reason) {
  PktMeta* md = meta(m);
  md->next = static_cast<uint8_t>(NodeId::kDrop);
  md->drop_reason = static_cast<uint16_t>(reason);
}

// A packet a stage has handed to another worker (handoff/): it leaves
// this pipeline without being sent, transmitted or freed here.
inline constexpr uint8_t kHandedOff = static_cast<uint8_t>(NodeId::kCount);
inline void hand_off(rte_mbuf* m) { meta(m)->next = kHandedOff; }

// The base of a stage whose next edges are the enum `Next` (ending in
// kCount), named by `names` in the same order.
template <typename Next>
class StageWith : public Stage {
 public:
  using Edge = Next;
  static constexpr size_t kEdges = static_cast<size_t>(Next::kCount);
  using Names = std::array<std::string_view, kEdges>;

  explicit StageWith(const Names& names) noexcept : names_(names) { to_.fill(NodeId::kDrop); }

  // Main lcore, before the worker starts (the graph table).
  void wire(Next e, NodeId to) noexcept {
    to_[static_cast<size_t>(e)] = to;
    wired_[static_cast<size_t>(e)] = true;
  }
  NodeId edge(Next e) const noexcept { return to_[static_cast<size_t>(e)]; }

  std::span<const std::string_view> edge_names() const final { return names_; }
  NodeId edge(size_t index) const final { return to_[index]; }
  bool wired(size_t index) const final { return wired_[index]; }

 protected:
  void send(rte_mbuf* m, Next e) const noexcept {
    meta(m)->next = static_cast<uint8_t>(to_[static_cast<size_t>(e)]);
  }

 private:
  std::array<NodeId, kEdges> to_;
  std::array<bool, kEdges> wired_{};
  Names names_;
};

}  // namespace weft::dp
