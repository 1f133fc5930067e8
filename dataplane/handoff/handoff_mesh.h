#pragma once
// The rings over which workers hand packets to the owner of their
// connection (owner.h), as VPP's worker handoff does: one single-producer,
// single-consumer rte_ring for each ordered pair of workers, so no two
// threads ever write the same ring index and nothing on the path takes a
// lock or a compare-and-swap.
//
// Each worker has one HandoffEndpoint. Its handoff stage (handoff_stage.h)
// `hold`s the packets another worker owns while the pipeline runs, and the
// worker `flush`es them after the run: a packet is enqueued only once the
// pipeline is done with it, since its new owner may touch it at once. The
// worker also `receive`s what the others handed it, and runs those packets
// into its pipeline at the handoff node (their metadata travels in the
// mbuf), where they go straight on to the flow cache.
//
//   auto mesh = HandoffMesh::create(workers, HandoffMesh::kDefaultRingSize, error);
//   worker w:  HandoffEndpoint& ep = mesh->endpoint(w);
//              pipeline.run(...); ep.flush(stats);
//              n = ep.receive(pkts, kBurst); pipeline.run(ctx, NodeId::kHandoff, pkts, n, out); ...
//
// create() on the main lcore after rte_eal_init; each endpoint is then used
// by its own worker only. A ring that is full drops what does not fit
// (handoff_ring_full, counted at the handoff node and on the ingress port);
// the workers' backpressure (congested()) makes that rare.

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/worker_stats.h"

namespace weft::dp {

class HandoffEndpoint {
 public:
  // Set aside `m` for worker `owner` until flush(). At most
  // Pipeline::kNodeCapacity packets per owner between flushes (one run of
  // the handoff node); the stage never holds more.
  void hold(unsigned owner, rte_mbuf* m) noexcept {
    Outbox& o = out_[owner];
    o.pkts[o.n++] = m;
  }
  // Enqueues what was held, each owner's packets in one burst; what a full
  // ring does not take is dropped and counted in `stats`. Returns how many
  // were handed off.
  uint32_t flush(WorkerStats* stats) noexcept;
  // Up to `max` packets the other workers handed this one, taken from
  // their rings in turn.
  uint16_t receive(rte_mbuf** pkts, uint16_t max) noexcept;
  // True while a ring from a peer holds, or a ring to one has room for,
  // less than what one run can hand over: the worker then leaves its rx
  // queues alone and drains (worker.cc), which is the backpressure that
  // keeps a slower owner from dropping what a faster peer already worked on.
  bool congested() const noexcept;

  unsigned worker() const { return self_; }
  unsigned workers() const { return static_cast<unsigned>(out_.size()); }

 private:
  friend class HandoffMesh;
  struct Outbox {
    uint16_t n = 0;
    rte_mbuf* pkts[Pipeline::kNodeCapacity];
  };

  unsigned self_ = 0;
  std::vector<Outbox> out_;        // by owner
  std::vector<rte_ring*> to_;      // by owner; null for self
  std::vector<rte_ring*> from_;    // the rings others enqueue to this worker on
  size_t next_from_ = 0;           // where receive() starts, so no peer starves
};

class HandoffMesh {
 public:
  // Deep enough for a few bursts of every peer while the owner is busy with
  // its own queue; a power of two, as rte_ring wants.
  static constexpr unsigned kDefaultRingSize = 1024;

  // Null, with `error`, when a ring cannot be made.
  static std::unique_ptr<HandoffMesh> create(unsigned workers, unsigned ring_size, std::string& error);
  ~HandoffMesh();
  HandoffMesh(const HandoffMesh&) = delete;
  HandoffMesh& operator=(const HandoffMesh&) = delete;

  unsigned workers() const { return static_cast<unsigned>(endpoints_.size()); }
  HandoffEndpoint& endpoint(unsigned worker) { return *endpoints_[worker]; }

 private:
  HandoffMesh() = default;

  std::vector<std::unique_ptr<HandoffEndpoint>> endpoints_;
  std::vector<rte_ring*> rings_;  // owned
};

}  // namespace weft::dp
