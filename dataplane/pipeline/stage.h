#pragma once
// The stage interface every pipeline stage implements.
//
// A stage takes a burst and decides, for every packet, the next node: it
// writes `meta(m)->next` (a NodeId) or calls `drop(m, reason)`. It never
// frees or transmits packets itself; the Pipeline (pipeline.h) moves them
// along the graph, transmits at kTx and frees and counts at kDrop.
//
// Stages run on worker lcores only, are noexcept, and read tables only
// through `StageCtx::snap`, which stays valid for the whole burst (RCU).

#include <rte_mbuf.h>

#include <cstdint>
#include <string_view>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

struct Snapshot;     // the node's compiled tables, see dataplane/tables/snapshot.h
struct WorkerStats;  // dataplane/stats/counters.h
class Pipeline;      // dataplane/pipeline/pipeline.h

// Graph nodes, in topological order: a stage may only send packets to a node
// with a larger id. kTx and kDrop are terminal. Insert new stages where they
// belong in the packet's path.
enum class NodeId : uint8_t {
  kParse = 0,
  kPolicyGate,  // drops everything as no_policy until a policy is applied
  kXconnect,  // fixed port-to-port patch panel (benchmarks, standalone tests)
  // L2 overlay (dataplane/{overlay,underlay,vxlan,portsec,arp,l2}/)
  kIngress,       // by ingress port: vNIC frames, tunnel packets, underlay ARP
  kUnderlayArp,   // ARP on the underlay: answer for the VTEP IP, learn neighbors
  kVxlanDecap,    // tunnel packets from known peers to known VNIs -> inner frame
  kPortSecurity,  // vNIC frames: source MAC and IP must be the port's
  kArpResponder,  // ARP suppression: known addresses answered locally
  kFlowLookup,    // flow cache: a known connection jumps to kTx / kVxlanEncap (flowcache/)
  kL2Lookup,      // (VNI, destination MAC) -> local port, remote VTEP or flood
  kFlood,         // broadcast and unknown unicast: one copy per flood-list member
  kSecurityGroupFlood,  // each flood copy judged alone by the security groups (flowcache/)
  kSecurityGroup,  // new connections: the ports' security groups decide (flowcache/)
  kFlowCommit,     // the walk's result recorded in the connection's entry (flowcache/)
  kVxlanEncap,    // frames for a remote VTEP -> VXLAN on the underlay
  kTx,
  kDrop,
  kCount
};
inline constexpr size_t kNodeCount = static_cast<size_t>(NodeId::kCount);

struct StageCtx {
  const Snapshot* snap = nullptr;  // may be null before the first policy
  uint64_t now_tsc = 0;            // rte_rdtsc() at burst start; tests pass a fake clock
  WorkerStats* stats = nullptr;
  rte_mempool* pool = nullptr;     // for packets a stage creates (replies, replicas)
  Pipeline* pipeline = nullptr;    // the running pipeline, set by Pipeline::run: for enqueue()
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept = 0;
};

inline void send_to(rte_mbuf* m, NodeId next) { meta(m)->next = static_cast<uint8_t>(next); }

inline void drop(rte_mbuf* m, DropReason reason) {
  PktMeta* md = meta(m);
  md->next = static_cast<uint8_t>(NodeId::kDrop);
  md->drop_reason = static_cast<uint16_t>(reason);
}

}  // namespace weft::dp
