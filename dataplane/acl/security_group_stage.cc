#include "dataplane/acl/security_group_stage.h"

#include <netinet/in.h>

#include <algorithm>

#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/tail.h"
#include "dataplane/pipeline/trace.h"
#include "dataplane/qos/qos_classify.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

constexpr uint8_t kIcmpEchoRequest = 8;
constexpr uint32_t kNoCheck = UINT32_MAX;

// A connection as it was opened, whichever way the packet at hand goes.
struct Opening {
  uint8_t proto;
  rte_be32_t src, dst;
  rte_be16_t l4;          // SgKey::l4, as the originator addressed it: egress
  rte_be16_t ingress_l4;  // as the responder receives it: ingress
  uint16_t src_port;      // local ports at either end, kNoPort when remote
  uint16_t dst_port;
};

Opening opening(const Snapshot& snap, const PktMeta& md, const PacketTuple& t, bool reply) {
  const uint8_t side = reply ? 1 - t.src_side : t.src_side;  // the originator's key side
  Opening o;
  o.proto = conn_proto(t.key);
  o.src = t.key.addr[side];
  o.dst = t.key.addr[1 - side];
  switch (o.proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
      o.l4 = t.key.port[1 - side];
      break;
    case IPPROTO_ICMP:
      // An echo connection was opened by an echo request (type 8, code 0).
      o.l4 = rte_cpu_to_be_16(
          static_cast<uint16_t>(reply ? kIcmpEchoRequest << 8 : t.icmp_type << 8 | t.icmp_code));
      break;
    default:
      o.l4 = 0;
  }
  o.ingress_l4 = o.l4;
  const uint16_t in = snap.ports[md.in_port].role == PortRole::kVnic ? md.in_port : kNoPort;
  // The underlay and the gateway's external port are no port with rules.
  const uint16_t out =
      md.out_port < snap.ports.size() && snap.ports[md.out_port].role == PortRole::kVnic ? md.out_port : kNoPort;
  o.src_port = reply ? out : in;
  o.dst_port = reply ? in : out;
  return o;
}

// A translated connection (a load balancer's, lb/) as it was opened: the
// originator's egress is judged against what it addressed (the VIP and
// its port), the responder's ingress against the originator's real
// address and the port the translation sends it to (the target port).
void translated(Opening& o, const ConnTable& table, uint32_t idx) {
  const ConnEntry& e = table.entry(idx);
  const ConnXlate& x = table.xlate(idx);
  const uint8_t side = e.orig_side();
  o.src = e.key.addr[side];
  o.dst = e.key.addr[side ^ 1];
  if (o.proto == IPPROTO_TCP || o.proto == IPPROTO_UDP) {
    o.l4 = e.key.port[side ^ 1];
    o.ingress_l4 = x.dport;
  }
}

}  // namespace

void SecurityGroupStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t base = 0; base < n; base += SecurityGroupTable::kMaxBurst)
    check(ctx, pkts + base,
          static_cast<uint16_t>(std::min<uint32_t>(n - base, SecurityGroupTable::kMaxBurst)));
}

void SecurityGroupStage::check(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  constexpr uint32_t kMax = SecurityGroupTable::kMaxBurst;
  const Snapshot& snap = *ctx.snap;
  const SecurityGroupTable& sg = snap.security_groups;

  // Gather both directions' keys for the whole burst, then classify each
  // direction once.
  SgKey egress[kMax], ingress[kMax];
  uint32_t n_egress = 0, n_ingress = 0;
  uint32_t egress_at[kMax], ingress_at[kMax];  // per packet: its key's index, or kNoCheck
  Opening opened[kMax];
  PacketTuple tuples[kMax];
  bool judged[kMax] = {};
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const uint8_t ct = md->ct;
    const CtDisposition d =
        md->outer.l3_type == L3Type::kIpv4 ? ct_disposition(ct) : CtDisposition::kUntracked;
    if (d == CtDisposition::kUntracked || d == CtDisposition::kRelated) {
      md->qos = qos_classify(snap.qos, m);  // not cached: classified each time
      send(m, tail_edge<SecurityGroupNext>(tail_step(*md, snap.underlay_port)));
      continue;
    }
    const bool replica = mode_ == SgMode::kReplicas;
    if (d == CtDisposition::kPath && !replica) {
      send(m, SecurityGroupNext::kCommit);
      continue;
    }
    // kFlowLookup took this tuple apart already; it is cheaper to do again
    // over headers still in cache than to carry it in the metadata.
    extract_tuple(rte_pktmbuf_mtod(m, const uint8_t*), md->outer, md->vni, tuples[i]);
    const bool reply = !replica && ct_dir(ct) == ConnDir::kReply;
    opened[i] = opening(snap, *md, tuples[i], reply);
    if (md->xlate_conn != kNoConn && !replica) translated(opened[i], table_, md->xlate_conn & ~kXlateReply);
    const Opening& o = opened[i];
    judged[i] = true;
    egress_at[i] = ingress_at[i] = kNoCheck;
    if (o.src_port != kNoPort && !sg.egress_allows_all(o.src_port)) {
      egress_at[i] = n_egress;
      egress[n_egress++] = make_sg_key(o.proto, o.dst, sg.port_class(o.src_port), o.l4);
    }
    if (o.dst_port != kNoPort) {
      ingress_at[i] = n_ingress;
      ingress[n_ingress++] = make_sg_key(o.proto, o.src, sg.port_class(o.dst_port), o.ingress_l4);
    }
  }

  uint32_t egress_rule[kMax], ingress_rule[kMax];
  if (n_egress != 0) sg.classify(SgDirection::kEgress, egress, egress_rule, n_egress);
  if (n_ingress != 0) sg.classify(SgDirection::kIngress, ingress, ingress_rule, n_ingress);

  for (uint16_t i = 0; i < n; ++i) {
    if (!judged[i]) continue;
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const Opening& o = opened[i];
    const bool egress_ok =
        egress_at[i] == kNoCheck || egress_rule[egress_at[i]] != SecurityGroupTable::kDenied;
    const bool ingress_ok =
        ingress_at[i] == kNoCheck || ingress_rule[ingress_at[i]] != SecurityGroupTable::kDenied;
    if (ctx.tracer != nullptr) [[unlikely]] {
      if (egress_at[i] != kNoCheck)
        trace_fact(ctx, m, TraceFact::kSgEgressRule, egress_rule[egress_at[i]], o.src_port);
      else if (o.src_port != kNoPort)
        trace_fact(ctx, m, TraceFact::kSgEgressAll, 0, o.src_port);
      if (ingress_at[i] != kNoCheck)
        trace_fact(ctx, m, TraceFact::kSgIngressRule, ingress_rule[ingress_at[i]], o.dst_port);
    }
    const CtDisposition d = ct_disposition(md->ct);
    const bool replica = mode_ == SgMode::kReplicas;
    if (egress_ok && ingress_ok) {
      if (replica || d == CtDisposition::kStateless) {
        md->qos = qos_classify(snap.qos, m);  // not cached: classified each time
        send(m, tail_edge<SecurityGroupNext>(tail_step(*md, snap.underlay_port)));
      } else {
        send(m, SecurityGroupNext::kCommit);
      }
      continue;
    }
    if (!egress_ok) {
      drop(m, DropReason::sg_egress_denied);
      if (ctx.stats != nullptr) ctx.stats->ports[o.src_port].sg_egress_denied.inc();
    } else {
      drop(m, DropReason::sg_ingress_denied);
      if (ctx.stats != nullptr) ctx.stats->ports[o.dst_port].sg_ingress_denied.inc();
    }
    // A connection the new policy no longer allows ends here, both ways:
    // its entry stays as a tombstone that drops either side's packets.
    if (d == CtDisposition::kStale && !replica) {
      const uint32_t idx = table_.lookup(tuples[i].key, ctx.now_tsc);
      if (idx != ConnTable::kNone) table_.cut(idx, snap.generation, ctx.now_tsc);
    }
    // A new connection the load balancer made an entry for (lb/): the
    // entry goes with it, as if it had never been made.
    if (d == CtDisposition::kNew && !replica && md->xlate_conn != kNoConn) {
      const uint32_t idx = md->xlate_conn & ~kXlateReply;
      if (table_.entry(idx).state != ConnState::kFree) table_.remove(idx);
    }
  }
}

}  // namespace weft::dp
