#include "dataplane/flowcache/flow_commit.h"

#include "dataplane/conntrack/conn_state.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/qos/qos_classify.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

void FlowCommitStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const uint64_t now = ctx.now_tsc;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    md->qos = qos_classify(snap.qos, m);  // once per connection direction: recorded below
    const TailStep tail = tail_step(*md, snap.underlay_port);
    const CtDisposition d = ct_disposition(md->ct);
    PacketTuple t;
    extract_tuple(rte_pktmbuf_mtod(m, const uint8_t*), md->outer, md->vni, t);

    bool via_reply = false;
    uint32_t idx = table_.lookup(t.key, now, &via_reply);
    if (idx == ConnTable::kNone && d == CtDisposition::kNew) {
      const auto state = open_state(conn_proto(t.key), t);  // kFlowLookup checked it may
      // Charged to the connection's local port: the vNIC that opened it,
      // or the one it goes to when it came in from the underlay.
      const uint16_t owner = md->in_port == snap.underlay_port ? md->out_port : md->in_port;
      if (state) idx = table_.insert(t.key, *state, t.src_side, now, owner);
      if (idx == ConnTable::kNone) {
        drop(m, DropReason::ct_table_full);
        continue;
      }
    } else if (idx != ConnTable::kNone && d == CtDisposition::kNew &&
               !(md->xlate_conn == idx && table_.entry(idx).generation == 0)) {
      // (An entry of generation 0 that this packet's translation names was
      // made for it by the load balancer, lb/: it opened it.)
      // Made by an earlier packet of this burst: this one is a later packet.
      ConnEntry& e = table_.entry(idx);
      ConnDir dir;
      if (!table_.direction(idx, via_reply, t.src_side, dir) || track(e, dir, t) == TrackResult::kInvalid) {
        drop(m, DropReason::ct_invalid);
        continue;
      }
      table_.touch(idx, now);
    }
    if (idx != ConnTable::kNone) {
      ConnEntry& e = table_.entry(idx);
      ConnDir dir;
      if (!table_.direction(idx, via_reply, t.src_side, dir)) {
        drop(m, DropReason::ct_tuple_clash);
        continue;
      }
      if (e.generation != snap.generation) {
        e.generation = snap.generation;
        e.act(dir == ConnDir::kOriginal ? ConnDir::kReply : ConnDir::kOriginal) = FlowAction{};
        if (e.flags & kConnCut) table_.uncut(idx, now);  // cut before, allowed again now
      }
      FlowAction& a = e.act(dir);
      a.tail = tail;
      a.ingress = packet_ingress(*md, snap.underlay_port);
      a.out_port = md->out_port;
      a.tunnel = md->out_port == snap.underlay_port ? md->tunnel : 0;
      a.rewrite = md->rewrite;
      a.qos = md->qos;
    }
    md->generation = snap.generation;
    send(m, tail_edge<FlowCommitNext>(tail));
  }
}

}  // namespace weft::dp
