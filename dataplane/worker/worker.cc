#include "dataplane/worker/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_rcu_qsbr.h>
#include <sys/prctl.h>

#include <algorithm>

#include "dataplane/lb/probe_channel.h"

namespace weft::dp {
namespace {

// Sleeps of tens of microseconds are only worth asking for when the kernel
// honours them: its default 50 us timer slack would stretch each one.
constexpr unsigned long kTimerSlackNs = 1000;

}  // namespace

Worker::Worker(unsigned index, std::vector<uint16_t> ports, Pipeline& pipeline, NodeId entry,
               SnapshotPublisher& publisher, rte_mempool* pool, IdlePolicy idle,
               HandoffEndpoint* handoff)
    : index_(index),
      ports_(std::move(ports)),
      pipeline_(pipeline),
      entry_(entry),
      publisher_(publisher),
      pool_(pool),
      idle_(idle),
      tx_(static_cast<uint16_t>(index)),
      handoff_(handoff) {}

bool Worker::launch(unsigned lcore) {
  lcore_ = lcore;
  stop_.store(false, std::memory_order_relaxed);
  launched_ = rte_eal_remote_launch(&Worker::entry_point, this, lcore) == 0;
  return launched_;
}

void Worker::wait() {
  if (!launched_) return;
  rte_eal_wait_lcore(lcore_);
  launched_ = false;
}

int Worker::entry_point(void* self) {
  static_cast<Worker*>(self)->loop();
  return 0;
}

void Worker::loop() noexcept {
  prctl(PR_SET_TIMERSLACK, kTimerSlackNs);
  rte_rcu_qsbr* const qsbr = publisher_.qsbr();
  rte_rcu_qsbr_thread_register(qsbr, index_);
  rte_rcu_qsbr_thread_online(qsbr, index_);

  const uint16_t queue = static_cast<uint16_t>(index_);
  rte_mbuf* pkts[kBurst];
  uint32_t empty_polls = 0;
  uint32_t sleep_us = 0;

  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    StageCtx ctx;  // member by member: StageCtx grows as stages need more
    ctx.snap = publisher_.current();
    ctx.now_tsc = start;
    ctx.stats = &stats_;
    ctx.pool = pool_;
    uint32_t received = 0;
    // Several workers: what the others handed this one goes first (part of
    // its work is done), and while a ring to or from this worker is nearly
    // full the rx queues wait: an overloaded owner then drops in its rx
    // queues, where a drop costs nothing, not after a peer's work.
    if (handoff_ != nullptr) {
      const uint16_t n = handoff_->receive(pkts, kBurst);
      if (n != 0) {
        received += n;
        pipeline_.run(ctx, NodeId::kHandoff, pkts, n, tx_);
      }
    }
    const bool congested = handoff_ != nullptr && handoff_->congested();
    for (uint16_t port : ports_) {
      if (congested) break;
      const uint16_t n = rte_eth_rx_burst(port, queue, pkts, kBurst);
      if (n == 0) continue;
      received += n;
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < n; ++i) {
        PktMeta* md = meta(pkts[i]);
        md->in_port = port;
        md->trace = 0;
        bytes += rte_pktmbuf_pkt_len(pkts[i]);
      }
      stats_.ports[port].rx_packets.add(n);
      stats_.ports[port].rx_bytes.add(bytes);
      pipeline_.run(ctx, entry_, pkts, n, tx_);
      if (handoff_ != nullptr) handoff_->flush(&stats_);
    }
    if (probes_ != nullptr) {
      // The health checker's probes go straight out, counted as the port's tx.
      const auto n = static_cast<uint16_t>(probes_->take_outgoing(pkts, kBurst));
      if (n != 0) pipeline_.run(ctx, NodeId::kTx, pkts, n, tx_);
    }
    // What the QoS shaper releases now leaves now (qos/qos_shaper.h).
    received += pipeline_.service(ctx, tx_);
    // Nothing of this iteration's snapshot is held past this point.
    rte_rcu_qsbr_quiescent(qsbr, index_);
    stats_.polls.inc();

    if (received != 0 || pipeline_.holds_packets()) {
      stats_.busy_cycles.add(rte_rdtsc() - start);
      empty_polls = 0;
      sleep_us = 0;
      continue;
    }
    stats_.idle_polls.inc();
    if (++empty_polls < idle_.spin_polls) continue;

    sleep_us = sleep_us == 0 ? idle_.min_sleep_us : std::min(sleep_us * 2, idle_.max_sleep_us);
    rte_rcu_qsbr_thread_offline(qsbr, index_);
    rte_delay_us_sleep(sleep_us);
    rte_rcu_qsbr_thread_online(qsbr, index_);
    stats_.sleeps.inc();
  }

  rte_rcu_qsbr_thread_offline(qsbr, index_);
  rte_rcu_qsbr_thread_unregister(qsbr, index_);
}

}  // namespace weft::dp
