#include "dataplane/lb/lb_stage.h"

#include <netinet/in.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "dataplane/arp/arp_table.h"
#include "dataplane/conntrack/conn_state.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/lb/lb_table.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

constexpr uint32_t kMaxBurst = RTE_HASH_LOOKUP_BULK_MAX;
// The flow hash is a CRC of the 5-tuple: linear, so clients whose tuples
// differ in a few bits (consecutive source ports) get hashes that differ
// in a pattern, and the slot they land on (hash mod a prime) with them.
// MurmurHash3's finalizer spreads every input bit over the whole word.
uint32_t maglev_hash(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace

void LoadBalancerStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t base = 0; base < n; base += kMaxBurst)
    balance(ctx, pkts + base, static_cast<uint16_t>(std::min<uint32_t>(n - base, kMaxBurst)));
}

// Not for a listener: to the router, unless it is for a VIP.
void LoadBalancerStage::route_or_refuse(const LbTable& lbt, rte_mbuf* m) const noexcept {
  const PktMeta* md = meta(m);
  rte_be32_t dst;
  std::memcpy(&dst, rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3 + offsetof(rte_ipv4_hdr, dst_addr),
              sizeof dst);
  if (lbt.is_vip(md->vni, dst))
    drop(m, DropReason::lb_no_listener);
  else
    send(m, LoadBalancerNext::kRoute);
}

uint32_t LoadBalancerStage::open(const StageCtx& ctx, rte_mbuf* m, const PacketTuple& t, uint32_t listener,
                                 DropReason& why) noexcept {
  const LbTable& lbt = ctx.snap->lbs;
  const LbListener& l = lbt.listeners[listener];
  const uint64_t now = ctx.now_tsc;
  PktMeta* md = meta(m);
  // A packet of this burst before this one may have opened it already.
  uint32_t idx = table_.lookup(t.key, now);
  if (idx != ConnTable::kNone) {
    if (table_.entry(idx).flags & kConnXlate) return idx;
    why = DropReason::lb_xlate_clash;
    return ConnTable::kNone;
  }
  const uint16_t slot = lbt.lbs[l.lb].maglev.pick(maglev_hash(flow_hash_of(m)));
  if (slot == MaglevTable::kNone || slot >= l.n_targets) {
    why = DropReason::lb_no_backend;
    return ConnTable::kNone;
  }
  const LbTarget& target = lbt.targets[l.first_target + slot];
  const auto state = open_state(conn_proto(t.key), t);  // kFlowLookup checked it may
  if (state) idx = table_.insert(t.key, *state, t.src_side, now, md->in_port);
  if (idx == ConnTable::kNone) {
    why = DropReason::ct_table_full;
    return ConnTable::kNone;
  }
  const rte_be32_t client = t.key.addr[t.src_side];
  ConnXlate x{};
  // Hairpin: the backend chosen for itself would answer itself inside its
  // own stack; from the VIP, its answers come back here to be translated.
  x.src = client == target.ip ? t.key.addr[t.src_side ^ 1] : client;
  x.sport = t.key.port[t.src_side];
  x.dst = target.ip;
  x.dport = l.target_port;
  uint8_t side = 0;
  x.reply_key = make_conn_key(conn_vni(t.key), conn_proto(t.key), x.dst, x.dport, x.src, x.sport, side);
  x.reply_side = side;
  if (!table_.translate(idx, x, now)) {
    table_.remove(idx);
    why = DropReason::lb_xlate_clash;
    return ConnTable::kNone;
  }
  return idx;
}

void LoadBalancerStage::balance(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const LbTable& lbt = snap.lbs;

  // New connections that may be for a listener: their keys, looked up at once.
  LbKey keys[kMaxBurst];
  const void* key_ptrs[kMaxBurst];
  uint16_t asks[kMaxBurst];
  uint32_t n_asks = 0;
  // Everything balanced: where its translation sends it (network order).
  rte_be32_t dest[kMaxBurst];
  bool balanced[kMaxBurst] = {};
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->in_port == snap.underlay_port || !snap.vnics.by_port[md->in_port].in_policy ||
        md->outer.l3_type != L3Type::kIpv4) {
      send(m, LoadBalancerNext::kRoute);
      continue;
    }
    const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3;
    if (md->xlate_conn != kNoConn) {
      const uint32_t idx = md->xlate_conn & ~kXlateReply;
      const ConnEntry& e = table_.entry(idx);
      const ConnXlate& x = table_.xlate(idx);
      const uint8_t o = e.orig_side();
      // A load balancer translates within one network; a translation into
      // another zone (the external network's, VNI 0) is a gateway's NAT,
      // which the router and the gateway's stages route.
      if (conn_vni(x.reply_key) != conn_vni(e.key)) {
        send(m, LoadBalancerNext::kRoute);
        continue;
      }
      // Decided again after a policy change: a connection to a VIP of this
      // snapshot keeps its backend only while the listener still selects
      // it. (A translation to no VIP is one of a load balancer the policy
      // removed whole: its connections run out where they are bound.)
      if (ct_disposition(md->ct) == CtDisposition::kStale && lbt.is_vip(conn_vni(e.key), e.key.addr[o ^ 1])) {
        const LbListener* l =
            lbt.find(lb_key(conn_vni(e.key), e.key.addr[o ^ 1], conn_proto(e.key), e.key.port[o ^ 1]));
        if (l == nullptr || !lbt.selects(*l, x.dst)) {
          drop(m, DropReason::lb_backend_gone);
          table_.cut(idx, snap.generation, ctx.now_tsc);
          continue;
        }
      }
      dest[i] = (md->xlate_conn & kXlateReply) ? e.key.addr[o] : x.dst;
      balanced[i] = true;
      continue;
    }
    const uint8_t proto = ip[offsetof(rte_ipv4_hdr, next_proto_id)];
    if (lbt.empty() || ct_disposition(md->ct) != CtDisposition::kNew || md->outer.l4 == 0 ||
        (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) {
      route_or_refuse(lbt, m);
      continue;
    }
    rte_be32_t dst;
    rte_be16_t dport;
    std::memcpy(&dst, ip + offsetof(rte_ipv4_hdr, dst_addr), sizeof dst);
    std::memcpy(&dport, rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l4 + 2, sizeof dport);
    asks[n_asks] = i;
    keys[n_asks] = lb_key(md->vni, dst, proto, dport);
    key_ptrs[n_asks] = &keys[n_asks];
    ++n_asks;
  }

  if (n_asks != 0) {
    uint64_t hits = 0;
    void* found[kMaxBurst];
    rte_hash_lookup_bulk_data(lbt.listener_index.get(), key_ptrs, n_asks, &hits, found);
    for (uint32_t k = 0; k < n_asks; ++k) {
      rte_mbuf* m = pkts[asks[k]];
      PktMeta* md = meta(m);
      const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
      if (!(hits & (uint64_t{1} << k))) {
        route_or_refuse(lbt, m);
        continue;
      }
      PacketTuple t;
      if (extract_tuple(data, md->outer, md->vni, t) != TupleKind::kTracked) {
        drop(m, DropReason::internal_error);  // TCP or UDP with ports: the parser saw to it
        continue;
      }
      DropReason why = DropReason::kNone;
      const uint32_t idx = open(ctx, m, t, data_index(found[k]), why);
      if (idx == ConnTable::kNone) {
        drop(m, why);
        continue;
      }
      md->xlate_conn = idx;
      dest[asks[k]] = table_.xlate(idx).dst;
      balanced[asks[k]] = true;
    }
  }

  // Where each balanced packet's destination lives, at once.
  uint64_t host_keys[kMaxBurst];
  const void* host_ptrs[kMaxBurst];
  uint16_t which[kMaxBurst];
  uint32_t count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (!balanced[i]) continue;
    host_keys[count] = arp_key(meta(pkts[i])->vni, rte_be_to_cpu_32(dest[i]));
    host_ptrs[count] = &host_keys[count];
    which[count++] = i;
  }
  if (count == 0) return;
  uint64_t hits = 0;
  void* host[kMaxBurst];
  rte_hash_lookup_bulk_data(snap.routes.hosts.get(), host_ptrs, count, &hits, host);
  for (uint32_t k = 0; k < count; ++k) {
    rte_mbuf* m = pkts[which[k]];
    PktMeta* md = meta(m);
    const HostEntry to = (hits & (uint64_t{1} << k)) ? host_entry(host[k]) : HostEntry{FdbKind::kRouter, 0, 0};
    switch (to.kind) {
      case FdbKind::kLocal:
        md->out_port = to.value;
        md->tunnel = 0;
        break;
      case FdbKind::kRemote:
        md->out_port = snap.underlay_port;
        md->tunnel = to.value;
        break;
      case FdbKind::kUnbound:
        drop(m, DropReason::l2_port_unbound);
        continue;
      case FdbKind::kRouter:  // a backend is a port of the network: the builder saw to it
        drop(m, DropReason::l3_host_unknown);
        continue;
    }
    md->rewrite = to.rewrite;
    send(m, LoadBalancerNext::kBalanced);
  }
}

}  // namespace weft::dp
