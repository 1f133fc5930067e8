#include "dataplane/handoff/conn_owner.h"

#include <netinet/in.h>

#include "dataplane/handoff/owner.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// The owner of one end alone: a key with the other end zeroed.
unsigned end_owner(uint32_t zone, rte_be32_t addr, rte_be16_t port, unsigned workers) {
  ConnKey k{};
  k.addr[0] = addr;
  k.port[0] = port;
  k.zone = zone;
  return key_owner(k, workers);
}

}  // namespace

ConnOwner::ConnOwner(const Snapshot& snap, unsigned workers) noexcept : workers_(workers) {
  if (!snap.lbs.empty()) lbs_ = &snap.lbs;
  gateway_ = snap.gateway.hosted;
  if (gateway_ && !snap.gateway.floating.empty()) floating_ = &snap.gateway;
}

unsigned ConnOwner::of_key(const ConnKey& in) const noexcept {
  const uint8_t proto = conn_proto(in);
  const bool ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP;
  if (gateway_ && !ports) return end_owner(conn_zone(0, proto), 0, 0, workers_);
  ConnKey key = in;
  if (floating_ != nullptr && conn_vni(key) == 0) {
    for (int side = 0; side < 2; ++side) {
      const FloatingIp* f = floating_->floating_at(key.addr[side]);
      if (f == nullptr) continue;
      uint8_t unused;
      key = make_conn_key(f->vni, proto, f->ip, key.port[side], key.addr[side ^ 1], key.port[side ^ 1], unused);
      break;
    }
  }
  if (lbs_ != nullptr && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
    const uint32_t vni = conn_vni(key);
    const bool server0 = lbs_->service_end(lb_key(vni, key.addr[0], proto, key.port[0]));
    const bool server1 = lbs_->service_end(lb_key(vni, key.addr[1], proto, key.port[1]));
    if (server0 != server1) {
      const int client = server0 ? 1 : 0;
      rte_be32_t addr = key.addr[client];
      if (lbs_->is_vip(vni, addr)) addr = key.addr[client ^ 1];  // a hairpin's reply
      return end_owner(key.zone, addr, key.port[client], workers_);
    }
  }
  return key_owner(key, workers_);
}

unsigned ConnOwner::of_packet(const uint8_t* data, const FrameLayers& f, uint32_t vni) const noexcept {
  ConnKey key;
  return owner_key(data, f, vni, key) ? of_key(key) : kAnyWorker;
}

}  // namespace weft::dp
