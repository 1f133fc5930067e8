#pragma once
// Two workers in policy mode, as weftd runs them (dataplane/handoff/): each
// with its own graph and connection table, built by weftd's own
// build_worker_graph, joined by the handoff rings. A packet enters the
// worker of the rx queue it "came in on"; what that worker hands over is
// run by its owner, as the worker loop does (worker.cc).
//
//   WorkerPair workers;
//   workers.build(4096, dp::HandoffMesh::kDefaultRingSize);
//   Handled h = workers.arrive(1, frame, kRed1Port, snapshot(), now());
//
// Test code; the EAL's main lcore. A fixture owns one beside its
// FlowCacheFixture, whose snapshot and clock it runs on.

#include <array>
#include <memory>
#include <span>
#include <string>

#include "dataplane/handoff/handoff_mesh.h"
#include "dataplane/weftd/graph.h"
#include "tests/packet/flowcache_fixture.h"

namespace weft::test {

// What one burst became, summed over both workers.
struct Handled {
  Outcome outcome;
  unsigned handed = 0;  // packets the arrival worker handed to the other
};

class WorkerPair {
 public:
  static constexpr unsigned kWorkers = 2;

  // (Re)builds both workers with tables of `max_connections` each: the
  // connections made so far are gone. Fails the calling test on error.
  void build(uint32_t max_connections, unsigned ring_size);
  void reset();

  // Runs `frames` in on `in_port` of worker `w` as one burst, then lets
  // every worker run what was handed to it.
  Handled arrive(unsigned w, std::span<const Bytes> frames, uint16_t in_port, const dp::Snapshot& snap,
                 uint64_t now);
  Handled arrive(unsigned w, const Bytes& frame, uint16_t in_port, const dp::Snapshot& snap, uint64_t now) {
    return arrive(w, std::span(&frame, 1), in_port, snap, now);
  }

  // The worker the handoff names for `frame` under `snap`'s rules
  // (handoff/conn_owner.h): a frame of network `vni` as it arrives from a
  // vNIC or the external port (VNI 0), or a tunnel packet.
  static unsigned owner_of(const dp::Snapshot& snap, const Bytes& frame, uint32_t vni, bool tunnel = false);

  dp::ConnTable& table(unsigned w) { return *graphs_[w]->conntrack; }
  dp::WorkerGraph& graph(unsigned w) { return *graphs_[w]; }
  dp::HandoffMesh& mesh() { return *mesh_; }
  // The counters of the last arrive().
  const dp::WorkerStats& stats(unsigned w) const { return *stats_[w]; }

 private:
  dp::StageCtx context(unsigned w, const dp::Snapshot& snap, uint64_t now);
  std::string drops() const;

  std::unique_ptr<dp::HandoffMesh> mesh_;
  std::array<std::unique_ptr<dp::WorkerGraph>, kWorkers> graphs_;
  std::array<std::unique_ptr<dp::WorkerStats>, kWorkers> stats_{std::make_unique<dp::WorkerStats>(),
                                                                std::make_unique<dp::WorkerStats>()};
  CaptureOutput out_;
};

}  // namespace weft::test
