#pragma once
// RCU publication of Snapshots (snapshot.h) to the worker lcores.
//
// Readers (workers) load the current snapshot once per loop iteration and
// report a quiescent state with rte_rcu_qsbr_quiescent() after their last
// use of it; a worker about to sleep goes offline so it never holds
// reclamation up. The writer (main lcore) publishes a new snapshot by
// swapping one atomic pointer; the old one is retired with a grace-period
// token and freed once rte_rcu_qsbr_check() says every online worker has
// been quiescent since the swap. No lock, no wait and no reference count on
// the fast path.
//
//   worker:  rte_rcu_qsbr_thread_register(pub.qsbr(), id); ..._online(...);
//            for (;;) { const Snapshot* s = pub.current(); ...burst...;
//                       rte_rcu_qsbr_quiescent(pub.qsbr(), id); }
//   main:    pub.publish(std::move(next));   // returns at once
//            pub.reclaim();                  // from a timer, until pending() == 0
//
// current() is for any thread; everything else is main-lcore only.

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>

#include "dataplane/tables/snapshot.h"

namespace weft::dp {

class SnapshotPublisher {
 public:
  // Readers register with thread ids 0 .. max_readers-1. Needs no EAL: the
  // QSBR variable lives in ordinary memory.
  explicit SnapshotPublisher(unsigned max_readers);
  // Frees every snapshot. The readers must have stopped (or gone offline).
  ~SnapshotPublisher();
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  rte_rcu_qsbr* qsbr() const { return qsbr_; }

  // The snapshot in force; null before the first publish.
  const Snapshot* current() const noexcept { return current_.load(std::memory_order_acquire); }

  // Stamps `next` with the next generation and makes it current. The
  // previous snapshot is retired and freed by a later reclaim() (this call
  // tries once). Returns the new generation.
  uint32_t publish(std::unique_ptr<Snapshot> next);

  // Frees the retired snapshots every reader has moved past. Non-blocking.
  // Returns how many remain retired.
  size_t reclaim();
  size_t pending() const { return retired_.size(); }

  // Blocks until every retired snapshot is freed.
  void synchronize();

 private:
  struct Retired {
    uint64_t token;
    std::unique_ptr<Snapshot> snap;
  };

  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<Snapshot*> current_{nullptr};
  std::deque<Retired> retired_;  // in token order
  uint32_t generation_ = 0;
};

}  // namespace weft::dp
