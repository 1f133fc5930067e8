#include "dataplane/lb/probe_channel.h"

#include <rte_errno.h>
#include <rte_lcore.h>

namespace weft::dp {
namespace {

static_assert(sizeof(ProbeReply) % 4 == 0, "rte_ring elements are whole 32-bit words");

std::string ring_name(const char* what) {
  static std::atomic<unsigned> serial{0};
  return std::string("lbprobe_") + what + std::to_string(serial.fetch_add(1));
}

}  // namespace

std::unique_ptr<ProbeChannel> ProbeChannel::create(std::string& error) {
  std::unique_ptr<ProbeChannel> c(new ProbeChannel());
  const int socket = static_cast<int>(rte_socket_id());
  c->outbox_ = rte_ring_create(ring_name("out").c_str(), kRingSize, socket, 0);
  c->inbox_ = rte_ring_create_elem(ring_name("in").c_str(), sizeof(ProbeReply), kRingSize, socket, 0);
  if (c->outbox_ == nullptr || c->inbox_ == nullptr) {
    error = std::string("health check rings: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  return c;
}

ProbeChannel::~ProbeChannel() {
  if (outbox_ != nullptr) {
    rte_mbuf* m = nullptr;
    while (rte_ring_dequeue(outbox_, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
  }
  rte_ring_free(outbox_);
  rte_ring_free(inbox_);
}

bool ProbeChannel::send(rte_mbuf* m) noexcept {
  if (rte_ring_enqueue(outbox_, m) == 0) return true;
  rte_pktmbuf_free(m);
  lost_probes_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool ProbeChannel::deliver(const ProbeReply& r) noexcept {
  ProbeReply copy = r;  // DPDK 22.11's enqueue takes a non-const pointer
  if (rte_ring_enqueue_elem(inbox_, &copy, sizeof copy) == 0) return true;
  lost_replies_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

unsigned ProbeChannel::take_replies(ProbeReply* out, unsigned n) noexcept {
  return rte_ring_dequeue_burst_elem(inbox_, out, sizeof(ProbeReply), n, nullptr);
}

}  // namespace weft::dp
