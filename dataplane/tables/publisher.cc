#include "dataplane/tables/publisher.h"

#include <rte_common.h>

#include <cstdlib>
#include <new>

namespace weft::dp {

SnapshotPublisher::SnapshotPublisher(unsigned max_readers) {
  // At least one slot: rte_rcu_qsbr_init refuses zero readers, and a
  // publisher without readers (tests, tools) simply never waits.
  const unsigned readers = max_readers == 0 ? 1 : max_readers;
  size_t size = rte_rcu_qsbr_get_memsize(readers);
  size = RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
  qsbr_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, size));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, readers) != 0) {
    std::free(qsbr_);
    throw std::bad_alloc();
  }
}

SnapshotPublisher::~SnapshotPublisher() {
  retired_.clear();
  delete current_.exchange(nullptr);
  std::free(qsbr_);
}

uint32_t SnapshotPublisher::publish(std::unique_ptr<Snapshot> next) {
  next->generation = ++generation_;
  Snapshot* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  if (old != nullptr) retired_.push_back({rte_rcu_qsbr_start(qsbr_), std::unique_ptr<Snapshot>(old)});
  reclaim();
  return generation_;
}

size_t SnapshotPublisher::reclaim() {
  // Tokens grow with each retirement, so the first one not yet safe ends it.
  while (!retired_.empty() && rte_rcu_qsbr_check(qsbr_, retired_.front().token, false) == 1)
    retired_.pop_front();
  return retired_.size();
}

void SnapshotPublisher::synchronize() {
  if (retired_.empty()) return;
  rte_rcu_qsbr_check(qsbr_, retired_.back().token, true);
  retired_.clear();
}

}  // namespace weft::dp
