#include "dataplane/gateway/nat.h"

#include <netinet/in.h>

#include <algorithm>

#include "dataplane/conntrack/conn_state.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/handoff/conn_owner.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// The local port a translated connection is charged to (conn_table.h,
// "Eviction"): its vNIC on this node, else the external port.
uint16_t owner_of(const Snapshot& snap, const PktMeta& md) {
  if (snap.ports[md.in_port].role == PortRole::kVnic) return md.in_port;
  if (md.out_port < snap.ports.size() && snap.ports[md.out_port].role == PortRole::kVnic) return md.out_port;
  return snap.external_port;
}

// The translation of a connection whose original direction leaves as
// (src, sport) -> (dst, dport), its replies arriving in zone `reply_vni`.
ConnXlate xlate_to(uint32_t reply_vni, uint8_t proto, rte_be32_t src, rte_be16_t sport, rte_be32_t dst,
                   rte_be16_t dport) {
  ConnXlate x{};
  x.src = src;
  x.sport = sport;
  x.dst = dst;
  x.dport = dport;
  x.reply_key = make_conn_key(reply_vni, proto, dst, dport, src, sport, x.reply_side);
  return x;
}

}  // namespace

bool NatStage::still_valid(const Snapshot& snap, uint32_t idx) const noexcept {
  const GatewayTable& gw = snap.gateway;
  const ConnEntry& e = table_.entry(idx);
  const ConnXlate& x = table_.xlate(idx);
  const uint32_t vni = conn_vni(e.key);
  if (!gw.hosted) return false;
  if (vni != 0) {  // opened inside: leaves as x.src
    const rte_be32_t inside = e.key.addr[e.orig_side()];
    if (!gw.serves(vni)) return false;
    if (x.src == gw.external_ip) return true;
    const FloatingIp* f = gw.floating_at(x.src);
    return f != nullptr && f->vni == vni && f->ip == inside;
  }
  // Opened from outside, to the floating IP it addressed.
  const FloatingIp* f = gw.floating_at(e.key.addr[1 - e.orig_side()]);
  return f != nullptr && f->vni == conn_vni(x.reply_key) && f->ip == x.dst;
}

DropReason NatStage::bind(const StageCtx& ctx, rte_mbuf* m, bool inbound) noexcept {
  const Snapshot& snap = *ctx.snap;
  const GatewayTable& gw = snap.gateway;
  PktMeta* md = meta(m);
  PacketTuple t;
  if (extract_tuple(rte_pktmbuf_mtod(m, const uint8_t*), md->outer, md->vni, t) != TupleKind::kTracked)
    return DropReason::gw_stateless;
  const uint8_t proto = conn_proto(t.key);
  const rte_be32_t src = t.key.addr[t.src_side], dst = t.key.addr[1 - t.src_side];
  const rte_be16_t sport = t.key.port[t.src_side], dport = t.key.port[1 - t.src_side];

  bool via_reply = false;
  uint32_t idx = table_.lookup(t.key, ctx.now_tsc, &via_reply);
  if (idx != ConnTable::kNone) {  // bound by an earlier packet of this burst
    if (!(table_.entry(idx).flags & kConnXlate)) return DropReason::internal_error;
    md->xlate_conn = idx | (via_reply ? kXlateReply : 0);
    return DropReason::kNone;
  }
  const FloatingIp* f = nullptr;
  if (inbound) {
    f = gw.floating_at(dst);
    if (f == nullptr) return DropReason::gw_no_mapping;
  } else {
    if (!gw.serves(md->vni)) return DropReason::gw_not_served;
    f = gw.floating_of(md->vni, src);
  }
  const auto state = open_state(proto, t);
  if (!state) return DropReason::ct_invalid;
  idx = table_.insert(t.key, *state, t.src_side, ctx.now_tsc, owner_of(snap, *md));
  if (idx == ConnTable::kNone) return DropReason::ct_table_full;

  bool bound = false;
  if (inbound) {
    bound = table_.translate(idx, xlate_to(f->vni, proto, src, sport, f->ip, dport), ctx.now_tsc);
  } else if (f != nullptr) {
    bound = table_.translate(idx, xlate_to(0, proto, f->external_ip, sport, dst, dport), ctx.now_tsc);
  } else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP) {
    // A port of the range per connection; its start spread by the flow
    // hash, so concurrent connections probe different places; with
    // several workers, only ports whose replies this worker owns.
    const uint32_t lo = snap.external.port_lo;
    const uint32_t range = uint32_t{snap.external.port_hi} - lo + 1;
    const uint32_t looks = std::min(range, kMaxProbes * workers_);
    const ConnOwner owners(snap, workers_);
    uint32_t at = flow_hash_of(m) % range;
    for (uint32_t p = 0, tried = 0; p < looks && tried < kMaxProbes && !bound; ++p, at = at + 1 == range ? 0 : at + 1) {
      const rte_be16_t port = rte_cpu_to_be_16(static_cast<uint16_t>(lo + at));
      // ICMP echo: the identifier stands for both ports (conn_key.h).
      const rte_be16_t peer = proto == IPPROTO_ICMP ? port : dport;
      const ConnXlate x = xlate_to(0, proto, gw.external_ip, port, dst, peer);
      if (workers_ > 1 && owners.of_key(x.reply_key) != self_) continue;
      ++tried;
      bound = table_.translate(idx, x, ctx.now_tsc);
    }
  } else {  // no ports to tell connections apart: the address alone
    bound = table_.translate(idx, xlate_to(0, proto, gw.external_ip, sport, dst, dport), ctx.now_tsc);
  }
  if (!bound) {
    table_.remove(idx);
    return inbound || f != nullptr ? DropReason::gw_xlate_clash : DropReason::gw_ports_exhausted;
  }
  md->xlate_conn = idx;
  return DropReason::kNone;
}

void NatStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const uint16_t ext = snap.external_port;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const bool inbound = md->in_port == ext;
    if (ext == kNoPort || (!inbound && md->out_port != ext) || md->outer.l3_type != L3Type::kIpv4) {
      send(m, NatNext::kCommit);
      continue;
    }
    DropReason why = DropReason::kNone;
    switch (ct_disposition(md->ct)) {
      case CtDisposition::kNew:
        why = bind(ctx, m, inbound);
        break;
      case CtDisposition::kStale:
        if (md->xlate_conn == kNoConn) {
          why = DropReason::gw_binding_gone;
        } else if (const uint32_t idx = md->xlate_conn & ~kXlateReply; !still_valid(snap, idx)) {
          table_.cut(idx, snap.generation, ctx.now_tsc);
          why = DropReason::gw_binding_gone;
        }
        break;
      default:
        break;
    }
    if (why != DropReason::kNone) drop(m, why);
    else send(m, NatNext::kCommit);
  }
}

}  // namespace weft::dp
