#include "dataplane/flowcache/flow_lookup.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dataplane/arp/arp_table.h"
#include "dataplane/conntrack/conn_state.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// Where a packet walks when the cache does not take it. The external
// network (the gateway's, VNI 0) has no L2 of its own: its packets walk
// the gateway's stages. A decapsulated frame's inner source is checked
// first (kTunnelSource).
FlowLookupNext walk_edge(const PktMeta& md, uint16_t underlay_port) {
  if (md.vni == 0) return FlowLookupNext::kExternalWalk;
  return md.in_port == underlay_port ? FlowLookupNext::kWalkTunnel : FlowLookupNext::kWalk;
}

}  // namespace

// An ICMP error (`t`: its quoted packet's key, found at `idx`) passes as
// RELATED only about a live connection that is not cut, quoting a packet
// the connection sent the way the quote says (the quoted source is the
// side the error goes to: extract_tuple checked that), and only from the
// connection's peer (the quoted destination), one of the network's router
// addresses, or the next hop of the static route the peer is reached by
// (an appliance VM forwarding for a prefix: traceroute's hop through it).
// Source quench and redirect never pass.
//
// A translated connection's quote may be in either of its forms. One that
// matched the reply key from the originator's side quotes an original
// packet as it left translated, and one that matched the original key
// from the peer's side a reply as it left translated: the error crosses
// the translation back (`xlate`: PktMeta::xlate_conn for the rewrite,
// rewrite/icmp_xlate.h). A quote in the form it had before translation
// stays where it is. On the external network (the gateway's zone 0) any
// router may report (kExternalIn has dropped martian sources), and so
// may one beyond a gateway (an address routed there) for a peer reached
// through it.
DropReason FlowLookupStage::related_check(const StageCtx& ctx, const rte_mbuf* m, const PacketTuple& t,
                                          uint32_t idx, bool via_reply, uint32_t& xlate) const noexcept {
  constexpr uint8_t kIcmpSourceQuench = 4, kIcmpRedirect = 5;
  if (t.icmp_type == kIcmpSourceQuench || t.icmp_type == kIcmpRedirect) return DropReason::ct_icmp_forbidden;
  if (idx == ConnTable::kNone) return DropReason::ct_related_untracked;
  const ConnEntry& e = table_.entry(idx);
  if (e.state == ConnState::kFree) return DropReason::ct_related_untracked;
  if (e.flags & kConnCut) return DropReason::ct_cut;
  const ConnDir dir = via_reply ? (t.src_side == table_.xlate(idx).reply_side ? ConnDir::kReply : ConnDir::kOriginal)
                                : e.dir_of(t.src_side);
  if (dir == ConnDir::kReply && !e.reply_seen()) return DropReason::ct_related_mismatch;
  if ((e.flags & kConnXlate) && via_reply == (dir == ConnDir::kOriginal))
    xlate = idx | (via_reply ? kXlateReply : 0);
  const PktMeta* md = meta(m);
  if (md->vni == 0) return DropReason::kNone;  // the external network
  const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3;
  uint32_t from;  // network order, as the key's addresses
  std::memcpy(&from, ip + offsetof(rte_ipv4_hdr, src_addr), sizeof from);
  if (from == t.key.addr[t.src_side ^ 1]) return DropReason::kNone;  // the peer
  const uint64_t key = arp_key(md->vni, rte_be_to_cpu_32(from));
  void* data = nullptr;
  if (rte_hash_lookup_data(ctx.snap->routes.hosts.get(), &key, &data) >= 0 &&
      host_entry(data).kind == FdbKind::kRouter)
    return DropReason::kNone;  // a router of the network on the path
  if (rte_hash_lookup_data(ctx.snap->networks.by_vni.get(), &md->vni, &data) >= 0) {
    const RouteEntry* r =
        fib_route(ctx.snap->routes, data_index(data), rte_be_to_cpu_32(t.key.addr[t.src_side ^ 1]));
    if (r != nullptr && r->kind == RouteKind::kStatic && r->next_hop == rte_be_to_cpu_32(from))
      return DropReason::kNone;  // the appliance the peer is routed through
    // The peer is outside, and so is the reporter: a router beyond the
    // gateway (which matched the error to its translation).
    if (r != nullptr && r->kind == RouteKind::kGateway) {
      const RouteEntry* via = fib_route(ctx.snap->routes, data_index(data), rte_be_to_cpu_32(from));
      if (via != nullptr && via->kind == RouteKind::kGateway) return DropReason::kNone;
    }
  }
  return DropReason::ct_related_mismatch;
}

void FlowLookupStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t base = 0; base < n; base += ConnTable::kMaxBulk)
    lookup(ctx, pkts + base,
           static_cast<uint16_t>(std::min<uint32_t>(n - base, ConnTable::kMaxBulk)));
  table_.expire(ctx.now_tsc, sweep_);
}

void FlowLookupStage::lookup(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const uint32_t generation = ctx.snap->generation;
  const uint16_t underlay = ctx.snap->underlay_port;
  const uint64_t now = ctx.now_tsc;
  auto walk = [&](rte_mbuf* m) { send(m, walk_edge(*meta(m), underlay)); };

  // Keys for the whole burst first, so the table can hash and prefetch
  // them all before it touches any.
  PacketTuple tuples[ConnTable::kMaxBulk];
  ConnKey keys[ConnTable::kMaxBulk];
  uint16_t which[ConnTable::kMaxBulk];
  bool quoted[ConnTable::kMaxBulk];  // the key is an ICMP error's quoted connection
  uint32_t count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->outer.l3_type != L3Type::kIpv4) {
      if (md->outer.l3_type == L3Type::kArp) {
        md->ct = ct_meta(CtDisposition::kUntracked);
        walk(m);
      } else {
        drop(m, DropReason::ct_not_ipv4);
      }
      continue;
    }
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(data + md->outer.l2);
    // Broadcast and multicast are no connection: every copy is judged
    // alone (kSecurityGroupFlood). (DHCP from a VM never gets here: the
    // node answers it, dhcp/.)
    if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
      md->ct = ct_meta(CtDisposition::kStateless);
      walk(m);
      continue;
    }
    PacketTuple& t = tuples[count];
    switch (extract_tuple(data, md->outer, md->vni, t)) {
      case TupleKind::kTracked:
        quoted[count] = false;
        break;
      case TupleKind::kIcmpError:
        quoted[count] = true;
        break;
      case TupleKind::kStateless:
        md->ct = ct_meta(CtDisposition::kStateless);
        walk(m);
        continue;
      case TupleKind::kFragment:
        drop(m, DropReason::ct_fragment);
        continue;
      case TupleKind::kMalformed:  // an error quoting something we cannot identify
        drop(m, md->vni == 0 ? DropReason::icmp_xlate_malformed : DropReason::ct_related_untracked);
        continue;
      case TupleKind::kNotIpv4:
        drop(m, DropReason::ct_not_ipv4);
        continue;
    }
    which[count++] = i;
  }
  if (count == 0) return;
  // The keys are copied in a pass of their own: extract_tuple has just
  // written each key in 2- and 4-byte stores, and a 16-byte load of them
  // right behind those stores cannot be forwarded from them; it stalls
  // until they reach the cache (~45 % of this function when done in the
  // loop above).
  for (uint32_t k = 0; k < count; ++k) keys[k] = tuples[k].key;

  uint32_t idx[ConnTable::kMaxBulk];
  bool via_reply[ConnTable::kMaxBulk];
  uint32_t hashes[ConnTable::kMaxBulk];
  table_.lookup_bulk(keys, count, now, idx, via_reply, hashes);
  uint32_t hits = 0;

  for (uint32_t k = 0; k < count; ++k) {
    rte_mbuf* m = pkts[which[k]];
    PktMeta* md = meta(m);
    const PacketTuple& t = tuples[k];
    // The packet's flow hash is its connection key's, symmetric like the
    // parser's and already computed (an ICMP error: its connection's, so
    // it takes the connection's path).
    md->flow_hash = flow_hash_value(hashes[k]);
    if (quoted[k]) {
      uint32_t xlate = kNoConn;
      const DropReason why = related_check(ctx, m, t, idx[k], via_reply[k], xlate);
      if (why == DropReason::ct_related_untracked && md->vni == 0) {
        drop(m, DropReason::gw_icmp_untracked);
      } else if (why != DropReason::kNone) {
        drop(m, why);
      } else {
        md->ct = ct_meta(CtDisposition::kRelated);
        md->xlate_conn = xlate;
        walk(m);
      }
      continue;
    }
    // An earlier packet of this burst may have closed the entry (a reopen).
    if (idx[k] != ConnTable::kNone && table_.entry(idx[k]).state == ConnState::kFree)
      idx[k] = ConnTable::kNone;
    if (idx[k] != ConnTable::kNone) {
      ConnEntry& e = table_.entry(idx[k]);
      ConnDir dir;
      if (!table_.direction(idx[k], via_reply[k], t.src_side, dir)) {
        drop(m, DropReason::ct_tuple_clash);
        continue;
      }
      const TrackResult r = track(e, dir, t);
      if (r == TrackResult::kInvalid) {
        drop(m, DropReason::ct_invalid);
        continue;
      }
      if (r == TrackResult::kOk) {
        table_.touch(idx[k], now);
        const FlowAction& a = e.act(dir);
        // The translation is the connection's whichever way it walks.
        if (e.flags & kConnXlate) md->xlate_conn = idx[k] | (dir == ConnDir::kReply ? kXlateReply : 0);
        if (e.generation != generation) {
          md->ct = ct_meta(CtDisposition::kStale, dir);
          walk(m);
        } else if (e.flags & kConnCut) {
          drop(m, DropReason::ct_cut);
        } else if (!a.recorded()) {
          md->ct = ct_meta(CtDisposition::kPath, dir);
          walk(m);
        } else if (a.ingress != packet_ingress(*md, underlay)) {
          // From another peer: the tunnel's source checks have their say
          // first (a peer posing as another's port is spoofing).
          if (md->in_port == underlay) {
            md->ct = ct_meta(CtDisposition::kWrongIngress, dir);
            send(m, FlowLookupNext::kWalkTunnel);
          } else {
            drop(m, DropReason::ct_port_mismatch);
          }
        } else {
          md->out_port = a.out_port;
          md->tunnel = a.tunnel;
          md->rewrite = a.rewrite;
          md->qos = a.qos;
          md->generation = generation;
          send(m, tail_edge<FlowLookupNext>(a.tail));
          ++hits;
        }
        continue;
      }
      // kReopen: a new connection on a closed one's tuple.
      table_.remove(idx[k]);
    }
    if (open_state(conn_proto(t.key), t)) {
      md->ct = ct_meta(CtDisposition::kNew);
      walk(m);
    } else {
      drop(m, DropReason::ct_invalid);
    }
  }
  ConnTableStats& stats = table_.stats();
  stats.hits.add(hits);
  stats.misses.add(count - hits);
}

}  // namespace weft::dp
