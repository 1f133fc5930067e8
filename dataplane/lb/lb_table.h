#pragma once
// LbTable: the load balancers of the networks this node carries, as
// kLoadBalancer (lb_stage.h) looks them up.
//
//   listeners  (VNI, VIP, protocol, port) -> a listener: its target port
//              and its backends (a run of `targets`), with a Maglev table
//              (maglev.h) over those that are in the selection
//   vips       (VNI, VIP) -> the load balancer: a packet to a VIP on a
//              port no listener serves is dropped (lb_no_listener), not
//              routed to an address no port holds
//   targets    per listener, its backends in the policy's order: address
//              and whether new connections may pick it
//   service_ends  every (VNI, address, protocol, port) a load-balanced
//              connection has at its server end: the listeners, and each
//              backend at its listener's target port, whatever its weight
//              or health. With several workers, a connection with one
//              such end belongs to the worker of its other end, the
//              client's (handoff/conn_owner.h), the same before and after
//              the translation
//
// A backend is in the selection when its weight is not 0 and its health
// check (if the load balancer has one) has not found it down; `health`
// (built with the table, from what the node knows at that moment) says
// which are down. The Maglev tables are built here, off the fast path, one
// per load balancer (M = MaglevTable::kDefaultSize, 65537 slots of 2
// bytes), which its listeners share.
//
// The health checks this node runs (health_prober.h): `probes`, one per
// (load balancer with a TCP health check, backend whose port is bound to a
// vNIC here), and `probe_src`, by DPDK port, the address those probes come
// from on that vNIC (the backend subnet's gateway; 0: none), which
// kLbProbeReply (probe_reply_stage.h) takes the replies to. Empty when the
// node probes nothing.
//
// Built by build_load_balancers (lb_builder.cc) on the main lcore; then
// read-only from any worker.

#include <rte_byteorder.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/arp/arp_table.h"
#include "dataplane/lb/health_prober.h"
#include "dataplane/lb/maglev.h"
#include "dataplane/tables/hash.h"

namespace weft::dp {

// The listener key: addresses and the port in network order, as a packet
// carries them.
struct LbKey {
  uint32_t vni;
  rte_be32_t vip;
  rte_be16_t port;
  uint8_t proto;  // IPPROTO_TCP or IPPROTO_UDP
  uint8_t pad = 0;
};
static_assert(sizeof(LbKey) == 12);

inline LbKey lb_key(uint32_t vni, rte_be32_t vip, uint8_t proto, rte_be16_t port) {
  return LbKey{vni, vip, port, proto, 0};
}

struct LbTarget {
  rte_be32_t ip;       // the backend port's address
  uint16_t backend;    // index into LbTable::backends
  bool selectable;     // in the Maglev table: weight > 0 and not down
};

struct LbListener {
  uint16_t lb;               // index into LbTable::lbs
  uint8_t proto;
  rte_be16_t port;           // as clients address it
  rte_be16_t target_port;    // as the backends serve it
  uint32_t first_target;     // its backends: targets[first_target, + n_targets)
  uint32_t n_targets;        // one per backend of its load balancer, in the same order
};

// One backend of one load balancer: what node stats show.
struct LbBackend {
  uint16_t lb;
  std::string port;  // the policy port
  uint32_t ip;       // host order
  uint32_t weight;
  bool down;         // its health check failed (health state at build time)
};

struct LbInfo {
  std::string name;
  uint32_t vni;
  uint32_t vip;  // host order
  // Over its backends: slot -> a backend (the same index of a listener's
  // targets), or kNone. Every listener of the load balancer picks from it.
  MaglevTable maglev;
};

// The health state a snapshot is built with: the backends found down, by
// (load balancer, port name).
using LbHealth = std::set<std::pair<std::string, std::string>>;

struct LbTable {
  HashPtr listener_index;  // LbKey -> index into listeners
  HashPtr vips;            // arp_key(vni, vip) (arp_table.h) -> index into lbs
  HashPtr service_ends;    // LbKey (a listener's, or a backend's at the target port) -> nothing
  std::vector<LbInfo> lbs;
  std::vector<LbListener> listeners;
  std::vector<LbTarget> targets;
  std::vector<LbBackend> backends;
  std::vector<LbProbeTarget> probes;
  std::vector<uint32_t> probe_src;  // by DPDK port, host order; empty: no probes

  bool empty() const { return listeners.empty(); }
  // Whether this node probes a backend on the vNIC at DPDK port `port`:
  // only that vNIC's frames can be probe replies.
  bool probes_on(uint16_t port) const noexcept { return port < probe_src.size() && probe_src[port] != 0; }

  // Slow path helpers (one lookup each).
  const LbListener* find(const LbKey& k) const noexcept {
    if (!listener_index) return nullptr;
    void* data = nullptr;
    if (rte_hash_lookup_data(listener_index.get(), &k, &data) < 0) return nullptr;
    return &listeners[data_index(data)];
  }
  // Whether (vni, addr, proto, port) is the server end of a load-balanced
  // connection, before (a listener) or after (a backend) its translation.
  bool service_end(const LbKey& k) const noexcept {
    return service_ends && rte_hash_lookup(service_ends.get(), &k) >= 0;
  }
  // Whether `addr` (network order) is a VIP of network `vni`.
  bool is_vip(uint32_t vni, rte_be32_t addr) const noexcept {
    if (empty()) return false;
    const uint64_t key = arp_key(vni, rte_be_to_cpu_32(addr));
    return rte_hash_lookup(vips.get(), &key) >= 0;
  }
  // Whether `ip` (network order) is a backend of `l` that is still in the
  // selection: a connection bound to one that is not is dropped.
  bool selects(const LbListener& l, rte_be32_t ip) const noexcept {
    for (uint32_t i = l.first_target; i < l.first_target + l.n_targets; ++i)
      if (targets[i].ip == ip) return targets[i].selectable;
    return false;
  }
};

struct BuildContext;
// After build_routes. `health`: the backends found down.
void build_load_balancers(const BuildContext& ctx, const LbHealth& health, LbTable& t);

}  // namespace weft::dp
