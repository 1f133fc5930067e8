#include "dataplane/flowcache/flow_lookup.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_udp.h>

#include <algorithm>

#include "dataplane/conntrack/conn_state.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void FlowLookupStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t base = 0; base < n; base += ConnTable::kMaxBulk)
    lookup(ctx, pkts + base,
           static_cast<uint16_t>(std::min<uint32_t>(n - base, ConnTable::kMaxBulk)));
  table_.expire(ctx.now_tsc, sweep_);
}

void FlowLookupStage::lookup(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const uint32_t generation = ctx.snap->generation;
  const uint64_t now = ctx.now_tsc;

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
        send(m, FlowLookupNext::kWalk);
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
      send(m, FlowLookupNext::kWalk);
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
        send(m, FlowLookupNext::kWalk);
        continue;
      case TupleKind::kFragment:
        drop(m, DropReason::ct_fragment);
        continue;
      case TupleKind::kMalformed:  // an error quoting something we cannot identify
        drop(m, DropReason::ct_related_untracked);
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
  table_.lookup_bulk(keys, count, now, idx, via_reply);
  uint32_t hits = 0;

  for (uint32_t k = 0; k < count; ++k) {
    rte_mbuf* m = pkts[which[k]];
    PktMeta* md = meta(m);
    const PacketTuple& t = tuples[k];
    md->rewrite = 0;
    md->xlate_conn = kNoConn;
    if (quoted[k]) {
      if (idx[k] == ConnTable::kNone) {
        drop(m, DropReason::ct_related_untracked);
      } else {
        md->ct = ct_meta(CtDisposition::kRelated);
        send(m, FlowLookupNext::kWalk);
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
          send(m, FlowLookupNext::kWalk);
        } else if (e.flags & kConnCut) {
          drop(m, DropReason::ct_cut);
        } else if (!a.recorded()) {
          md->ct = ct_meta(CtDisposition::kPath, dir);
          send(m, FlowLookupNext::kWalk);
        } else if (a.in_port != md->in_port) {
          drop(m, DropReason::ct_port_mismatch);
        } else {
          md->out_port = a.out_port;
          md->tunnel = a.tunnel;
          md->rewrite = a.rewrite;
          md->generation = generation;
          send(m, tail_edge<FlowLookupNext>(a.tail));
          ++hits;
        }
        continue;
      }
      // kReopen: a new connection on a closed one's tuple.
      table_.remove(idx[k]);
      md->xlate_conn = kNoConn;
    }
    if (open_state(conn_proto(t.key), t)) {
      md->ct = ct_meta(CtDisposition::kNew);
      send(m, FlowLookupNext::kWalk);
    } else {
      drop(m, DropReason::ct_invalid);
    }
  }
  ConnTableStats& stats = table_.stats();
  stats.hits.add(hits);
  stats.misses.add(count - hits);
}

}  // namespace weft::dp
