#pragma once
// A worker lcore: run to completion over bursts. Each loop iteration polls
// rx queue `index` of every port, runs each non-empty burst through the
// worker's own Pipeline (which transmits on tx queue `index` through
// EthTxOutput and frees and counts drops), then reports an RCU quiescent
// state: the snapshot it read at the top of the iteration may be freed.
//
// Adaptive idle: after `spin_polls` empty iterations in a row the worker
// goes RCU-offline and sleeps, starting at `min_sleep_us` and doubling on
// each further empty iteration up to `max_sleep_us` (~1 ms). One packet
// resets it. Idle, a worker wakes ~1000 times a second for one poll each,
// so an idle weftd costs a few percent of a core at most; a worker under
// load never sleeps.
//
// Several workers (policy mode): after each run the packets the pipeline
// handed to another worker go onto that worker's ring, and each iteration
// also runs what the others handed this one, at the handoff node
// (handoff/handoff_mesh.h).
//
// Lifecycle, main lcore: construct, launch(lcore), ..., request_stop(),
// wait(). stats() may be read by any thread at any time (single-writer
// relaxed counters).

#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/handoff/handoff_mesh.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/publisher.h"
#include "dataplane/worker/eth_tx.h"

namespace weft::dp {

class ProbeChannel;

struct IdlePolicy {
  static constexpr uint32_t kDefaultSpinPolls = 256;  // ~10-30 us of spinning
  static constexpr uint32_t kDefaultMinSleepUs = 16;
  static constexpr uint32_t kDefaultMaxSleepUs = 1024;

  uint32_t spin_polls = kDefaultSpinPolls;
  uint32_t min_sleep_us = kDefaultMinSleepUs;
  uint32_t max_sleep_us = kDefaultMaxSleepUs;
};

class Worker {
 public:
  static constexpr uint16_t kBurst = 32;

  // `index` is the worker's rx/tx queue on every port and its RCU reader id.
  // `pipeline` (with its stages) must outlive the worker.
  // `handoff`: this worker's end of the handoff rings when there are
  // several workers in policy mode (handoff/handoff_mesh.h), else null.
  Worker(unsigned index, std::vector<uint16_t> ports, Pipeline& pipeline, NodeId entry,
         SnapshotPublisher& publisher, rte_mempool* pool, IdlePolicy idle = {},
         HandoffEndpoint* handoff = nullptr);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the loop on `lcore` (rte_eal_remote_launch); false if the lcore
  // is not free.
  bool launch(unsigned lcore);
  // The health checks' outbox (lb/probe_channel.h): probes this worker
  // transmits when it takes them. Before launch; null: none.
  void set_probe_outbox(ProbeChannel* c) noexcept { probes_ = c; }
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  // Waits for the loop to return (after request_stop).
  void wait();

  unsigned index() const { return index_; }
  unsigned lcore() const { return lcore_; }
  const WorkerStats& stats() const { return stats_; }

 private:
  static int entry_point(void* self);
  void loop() noexcept;

  WorkerStats stats_;
  const unsigned index_;
  const std::vector<uint16_t> ports_;
  Pipeline& pipeline_;
  const NodeId entry_;
  SnapshotPublisher& publisher_;
  rte_mempool* const pool_;
  const IdlePolicy idle_;
  EthTxOutput tx_;
  HandoffEndpoint* const handoff_;
  ProbeChannel* probes_ = nullptr;
  unsigned lcore_ = 0;
  bool launched_ = false;
  std::atomic<bool> stop_{false};
};

}  // namespace weft::dp
