#pragma once
// The trace engine: one packet through weftd's real policy-mode graph
// (build_worker_graph, the stages and tables the workers run), on a
// pipeline of its own, with every stage's decision and the table entry
// behind it recorded (pipeline/trace.h).
//
//   auto session = TraceSession::create(snap, pool, error);
//   TraceResult r = session->run(in_port, frame);   // r.steps, r.outcomes
//
// What the trace leaves alone: it transmits nothing (what reaches kTx is
// captured), counts nothing in the workers' counters (it has its own),
// and keeps its connections in a connection table of its own, so a reply
// traced after its opening (run() again on the same session) finds the
// connection, and no worker's flow cache ever sees either. It reads the
// snapshot, which must outlive the session, and takes no probe turn from
// the shared underlay neighbor table (vxlan/encap.cc).
//
// The thread that runs it needs an EAL (weftd's main lcore; weftctl's own
// in-memory EAL, trace_eal.h).

#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

struct Snapshot;
struct WorkerGraph;

// An entry of the tables a decision rests on: how a trace shows it, and
// its key in NodeSources (common/source_keys.h), empty when it has none;
// `source` is the policy FILE:LINE:COLUMN, once annotated (trace_report.h).
struct TraceRef {
  std::string text;
  std::string key;
  std::string source;
};

struct TraceStep {
  uint32_t packet = 0;    // 0: the traced packet; then packets the stages made (copies, replies)
  NodeId node = NodeId::kDrop;
  std::string decision;   // the edge it took, or "drop"
  DropReason reason = DropReason::kNone;  // when dropped
  std::string detail;
  std::vector<TraceRef> refs;
};

// What became of each packet.
struct TraceOutcome {
  uint32_t packet = 0;
  bool delivered = false;
  uint16_t port = 0;          // delivered: the DPDK port
  std::string port_name;      // a vNIC's policy port, or "underlay"
  uint32_t vtep = 0;          // delivered on the underlay: the VTEP it went to
  std::string vtep_node;      // and that VTEP's node
  DropReason reason = DropReason::kNone;  // dropped: why
  NodeId drop_node = NodeId::kDrop;       // and by which stage
  std::vector<uint8_t> frame;  // delivered: the bytes sent (a VXLAN packet on the underlay)
};

struct TraceResult {
  std::vector<TraceStep> steps;  // in the order the stages ran
  std::vector<TraceOutcome> outcomes;
};

class TraceSession {
 public:
  static constexpr uint32_t kConnections = 1024;

  // Null, with `error`, when the graph cannot be made (memory).
  static std::unique_ptr<TraceSession> create(const Snapshot& snap, rte_mempool* pool, std::string& error);
  ~TraceSession();

  // Runs `frame` in on DPDK port `in_port` as one traced packet.
  TraceResult run(uint16_t in_port, const std::vector<uint8_t>& frame);

 private:
  TraceSession(const Snapshot& snap, rte_mempool* pool, std::unique_ptr<WorkerGraph> graph);

  const Snapshot& snap_;
  rte_mempool* pool_;
  std::unique_ptr<WorkerGraph> graph_;
};

}  // namespace weft::dp
