#include "dataplane/handoff/handoff_mesh.h"

#include <rte_errno.h>
#include <unistd.h>

#include <atomic>

namespace weft::dp {
namespace {

// Ring names are global to the EAL (and to its file prefix): unique per
// mesh, so a test may make several.
std::string ring_name(unsigned from, unsigned to) {
  static std::atomic<unsigned> meshes{0};
  return "weft_ho" + std::to_string(meshes.fetch_add(1)) + "_" + std::to_string(from) + "_" +
         std::to_string(to);
}

}  // namespace

std::unique_ptr<HandoffMesh> HandoffMesh::create(unsigned workers, unsigned ring_size, std::string& error) {
  std::unique_ptr<HandoffMesh> mesh(new HandoffMesh());
  for (unsigned w = 0; w < workers; ++w) {
    auto ep = std::make_unique<HandoffEndpoint>();
    ep->self_ = w;
    ep->out_.resize(workers);
    ep->to_.assign(workers, nullptr);
    mesh->endpoints_.push_back(std::move(ep));
  }
  for (unsigned from = 0; from < workers; ++from) {
    for (unsigned to = 0; to < workers; ++to) {
      if (from == to) continue;
      rte_ring* r = rte_ring_create(ring_name(from, to).c_str(), ring_size, SOCKET_ID_ANY,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (r == nullptr) {
        error = std::string("cannot create a handoff ring: ") + rte_strerror(rte_errno);
        return nullptr;
      }
      mesh->rings_.push_back(r);
      mesh->endpoints_[from]->to_[to] = r;
      mesh->endpoints_[to]->from_.push_back(r);
    }
  }
  return mesh;
}

HandoffMesh::~HandoffMesh() {
  // Packets still in flight when the workers stopped.
  rte_mbuf* pkts[64];
  for (rte_ring* r : rings_) {
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), 64, nullptr)) != 0)
      rte_pktmbuf_free_bulk(pkts, n);
    rte_ring_free(r);
  }
}

uint32_t HandoffEndpoint::flush(WorkerStats* stats) noexcept {
  uint32_t handed = 0;
  for (size_t owner = 0; owner < out_.size(); ++owner) {
    Outbox& o = out_[owner];
    if (o.n == 0) continue;
    const unsigned sent =
        rte_ring_sp_enqueue_burst(to_[owner], reinterpret_cast<void* const*>(o.pkts), o.n, nullptr);
    handed += sent;
    for (uint16_t i = static_cast<uint16_t>(sent); i < o.n; ++i) {
      if (stats != nullptr) {
        stats->count_drop(NodeId::kHandoff, DropReason::handoff_ring_full);
        const uint16_t port = meta(o.pkts[i])->in_port;
        if (port < kMaxPorts) stats->ports[port].drops.inc();
      }
    }
    if (sent < o.n) rte_pktmbuf_free_bulk(o.pkts + sent, o.n - sent);
    o.n = 0;
  }
  if (stats != nullptr) stats->handoff_sent.add(handed);
  return handed;
}

bool HandoffEndpoint::congested() const noexcept {
  constexpr unsigned kRun = Pipeline::kNodeCapacity;
  for (rte_ring* r : from_)
    if (rte_ring_count(r) >= kRun) return true;
  for (rte_ring* r : to_)
    if (r != nullptr && rte_ring_free_count(r) < kRun) return true;
  return false;
}

uint16_t HandoffEndpoint::receive(rte_mbuf** pkts, uint16_t max) noexcept {
  uint16_t n = 0;
  for (size_t k = 0; k < from_.size() && n < max; ++k) {
    rte_ring* r = from_[(next_from_ + k) % from_.size()];
    n = static_cast<uint16_t>(n + rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts + n), max - n, nullptr));
  }
  if (!from_.empty()) next_from_ = (next_from_ + 1) % from_.size();
  return n;
}

}  // namespace weft::dp
