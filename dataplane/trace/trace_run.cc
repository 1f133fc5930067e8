#include "dataplane/trace/trace_run.h"

#include <rte_cycles.h>

#include <cstring>
#include <unordered_map>

#include "common/source_keys.h"
#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/trace.h"
#include "common/proto/tables.pb.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/weftd/graph.h"

namespace weft::dp {
namespace {

std::string port_text(const Snapshot& snap, uint16_t port) {
  if (port >= kMaxPorts || snap.ports[port].role == PortRole::kUnused) return "DPDK port " + std::to_string(port);
  if (port == snap.underlay_port) return "the underlay";
  return "port " + snap.ports[port].name;
}

std::string vtep_text(const Snapshot& snap, uint16_t tunnel) {
  if (tunnel >= snap.vteps.vteps.size()) return "VTEP #" + std::to_string(tunnel);
  const Vtep& v = snap.vteps.vteps[tunnel];
  return "VTEP " + format_ipv4(v.ip) + " (node " + v.node + ")";
}

std::string network_name(const Snapshot& snap, uint32_t vni) {
  for (const Network& n : snap.networks.networks)
    if (n.vni == vni) return n.name;
  return "VNI " + std::to_string(vni);
}

// Where a packet goes once its path is decided (out_port, tunnel).
std::string destination(const Snapshot& snap, const PktMeta& md) {
  if (md.out_port == snap.underlay_port) return vtep_text(snap, md.tunnel);
  return port_text(snap, md.out_port);
}

const char* disposition_text(uint8_t ct) {
  switch (ct_disposition(ct)) {
    case CtDisposition::kUntracked: return "not a connection";
    case CtDisposition::kNew: return "no connection yet: a new one";
    case CtDisposition::kStale: return "a connection decided under an older policy: decided again";
    case CtDisposition::kPath: return "a known connection whose direction has no recorded path yet";
    case CtDisposition::kRelated: return "an ICMP error about a known connection";
    case CtDisposition::kStateless: return "ICMP neither echo nor error: judged alone";
    case CtDisposition::kWrongIngress: return "a known connection's packet from another peer than its own";
  }
  return "?";
}

struct Fact {
  const rte_mbuf* m;
  TraceFact what;
  uint32_t value;
  uint16_t port;
};

// Records every stage's decision, and captures what reaches kTx.
class Recorder final : public Tracer, public PacketOutput {
 public:
  Recorder(const Snapshot& snap, const Pipeline& pipeline) : snap_(snap), pipeline_(pipeline) {}

  void stage_done(NodeId node, rte_mbuf* const* pkts, uint16_t n) noexcept override {
    for (uint16_t i = 0; i < n; ++i) record(node, pkts[i]);
    facts_.clear();
  }
  void fact(const rte_mbuf* m, TraceFact what, uint32_t value, uint16_t port) noexcept override {
    facts_.push_back({m, what, value, port});
  }
  uint16_t transmit(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      const PktMeta& md = *meta(pkts[i]);
      TraceOutcome o;
      o.packet = id(pkts[i]);
      o.delivered = true;
      o.port = port;
      o.port_name = port < kMaxPorts ? snap_.ports[port].name : std::string();
      if (port == snap_.underlay_port && md.tunnel < snap_.vteps.vteps.size()) {
        o.vtep = snap_.vteps.vteps[md.tunnel].ip;
        o.vtep_node = snap_.vteps.vteps[md.tunnel].node;
      }
      const auto* data = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      o.frame.assign(data, data + rte_pktmbuf_data_len(pkts[i]));
      result.outcomes.push_back(std::move(o));
      rte_pktmbuf_free(pkts[i]);
    }
    return n;
  }

  TraceResult result;

 private:
  uint32_t id(const rte_mbuf* m) {
    auto [it, fresh] = ids_.try_emplace(m, static_cast<uint32_t>(ids_.size()));
    return it->second;
  }

  void record(NodeId node, rte_mbuf* m) {
    const PktMeta& md = *meta(m);
    TraceStep s;
    s.packet = id(m);
    s.node = node;
    const auto next = static_cast<NodeId>(md.next);
    if (next == NodeId::kDrop) {
      s.decision = "drop";
      s.reason = md.drop_reason < kDropReasonCount ? static_cast<DropReason>(md.drop_reason)
                                                   : DropReason::internal_error;
      TraceOutcome o;
      o.packet = s.packet;
      o.reason = s.reason;
      o.drop_node = node;
      result.outcomes.push_back(o);
    } else if (const Stage* stage = pipeline_.stage(node)) {
      const auto names = stage->edge_names();
      for (size_t e = 0; e < names.size(); ++e)
        if (stage->edge(e) == next) {
          s.decision = std::string(names[e]);
          break;
        }
    }
    describe(node, m, md, s);
    result.steps.push_back(std::move(s));
  }

  void sg_rule(const Fact& f, bool egress, TraceStep& s) const {
    const char* way = egress ? "egress" : "ingress";
    const std::string port = port_text(snap_, f.port);
    if (f.what == TraceFact::kSgEgressAll) {
      s.refs.push_back({"egress: " + port + " may open any outbound connection (no group of it restricts egress)", {}, {}});
      return;
    }
    const SgRuleRef* ref = snap_.security_groups.ref(f.value);
    if (ref == nullptr) {
      s.refs.push_back({std::string(way) + ": no " + way + " rule of " + port + "'s groups allows it", {}, {}});
      denying_lists(f.port, egress, s);
      return;
    }
    s.refs.push_back({std::string(way) + ": " + port + " allowed by group " + ref->group + " " + way + " rule " +
                          std::to_string(ref->index + 1),
                      sg_rule_source_key(ref->network, ref->group, egress, ref->index), {}});
  }

  // The lists of the groups whose rules refused a packet: where to look.
  void denying_lists(uint16_t port, bool egress, TraceStep& s) const {
    if (!snap_.compiled || port >= kMaxPorts) return;
    for (const proto::Port& p : snap_.compiled->ports()) {
      if (p.name() != snap_.ports[port].name) continue;
      for (const std::string& g : p.security_groups()) {
        const proto::SecurityGroup* group = nullptr;
        for (const proto::SecurityGroup& sg : snap_.compiled->security_groups())
          if (sg.network() == p.network() && sg.name() == g) group = &sg;
        // A group that leaves egress open has no say in an egress denial.
        if (group == nullptr || (egress && !group->restricts_egress())) continue;
        s.refs.push_back({"group " + g + "'s " + (egress ? "egress" : "ingress") + " list",
                          sg_list_source_key(p.network(), g, egress), {}});
      }
    }
  }

  void route(uint32_t index, const PktMeta& md, TraceStep& s) const {
    const RouteTable& rt = snap_.routes;
    if (index >= rt.routes.size() || index >= rt.origins.size()) return;
    const RouteOrigin& o = rt.origins[index];
    const std::string net = o.network < snap_.networks.networks.size() ? snap_.networks.networks[o.network].name : "?";
    const RouteEntry& r = rt.routes[index];
    std::string text = "route " + format_ipv4(o.addr) + "/" + std::to_string(o.len) + " of network " + net;
    text += r.kind == RouteKind::kStatic ? ", static via " + format_ipv4(r.next_hop) : ", connected";
    if (md.next != static_cast<uint8_t>(NodeId::kDrop) && static_cast<NodeId>(md.next) != NodeId::kIcmpError)
      text += ": to " + destination(snap_, md);
    s.refs.push_back({text, route_source_key(net, o.addr, o.len), {}});
  }

  void describe(NodeId node, const rte_mbuf* m, const PktMeta& md, TraceStep& s) {
    const bool dropped = md.next == static_cast<uint8_t>(NodeId::kDrop);
    switch (node) {
      case NodeId::kParse:
        if (md.outer.flags & kFlagVlan) s.detail = "802.1Q tag, VLAN " + std::to_string(md.outer.vlan_tci & 0xfff);
        break;
      case NodeId::kPolicyGate:
        s.detail = "policy version " + std::to_string(snap_.policy_version) + ", snapshot generation " +
                   std::to_string(snap_.generation);
        break;
      case NodeId::kIngress:
        s.detail = "from " + port_text(snap_, md.in_port);
        break;
      case NodeId::kVxlanDecap:
        if (!dropped) s.detail = "VNI " + std::to_string(md.vni) + ", network " + network_name(snap_, md.vni);
        break;
      case NodeId::kPortSecurity:
        if (!dropped) s.detail = "source MAC and address are " + port_text(snap_, md.in_port) + "'s";
        break;
      case NodeId::kFlowLookup:
        if (dropped) break;
        if (static_cast<NodeId>(md.next) == pipeline_.stage(node)->edge(size_t{0}))
          s.detail = disposition_text(md.ct);
        else
          s.detail = std::string("flow-cache hit: the connection's recorded path, ") +
                     (ct_dir(md.ct) == ConnDir::kReply ? "reply" : "original") + " direction, to " +
                     destination(snap_, md);
        break;
      case NodeId::kL2Lookup:
        if (s.decision == "unicast") s.detail = "destination MAC is " + destination(snap_, md);
        else if (s.decision == "routed") s.detail = "destination MAC is the router of network " + network_name(snap_, md.vni);
        else if (s.decision == "flood") s.detail = "broadcast, multicast or unknown destination MAC";
        break;
      case NodeId::kRouter:
        for (const Fact& f : facts_)
          if (f.m == m && f.what == TraceFact::kRoute) route(f.value, md, s);
          else if (f.m == m && f.what == TraceFact::kNoRoute)
            s.refs.push_back({"no route in network " + network_name(snap_, md.vni), {}, {}});
        break;
      case NodeId::kFlood:
        s.detail = "a copy to " + destination(snap_, md);
        break;
      case NodeId::kSecurityGroup:
      case NodeId::kSecurityGroupFlood: {
        bool checked = false;
        for (const Fact& f : facts_) {
          if (f.m != m) continue;
          checked = true;
          if (f.what == TraceFact::kSgEgressRule || f.what == TraceFact::kSgEgressAll) sg_rule(f, true, s);
          else if (f.what == TraceFact::kSgIngressRule) sg_rule(f, false, s);
        }
        if (!checked)
          s.detail = ct_disposition(md.ct) == CtDisposition::kPath
                         ? "a reply, or a later packet, of an allowed connection: no rule is checked"
                         : "not a connection: no rule is checked";
        break;
      }
      case NodeId::kFlowCommit:
        s.detail = "path recorded in the connection's flow-cache entry";
        break;
      case NodeId::kVxlanEncap:
        if (!dropped) s.detail = "VXLAN VNI " + std::to_string(md.vni) + " to " + vtep_text(snap_, md.tunnel);
        break;
      default:
        break;
    }
    if (s.detail.empty() && (md.next == static_cast<uint8_t>(NodeId::kTx)) && node != NodeId::kVxlanEncap)
      s.detail = "to " + destination(snap_, md);
  }

  const Snapshot& snap_;
  const Pipeline& pipeline_;
  std::unordered_map<const rte_mbuf*, uint32_t> ids_;
  std::vector<Fact> facts_;
};

}  // namespace

std::unique_ptr<TraceSession> TraceSession::create(const Snapshot& snap, rte_mempool* pool, std::string& error) {
  GraphOptions options;
  options.conntrack.max_entries = kConnections;
  options.conntrack.memory = TableMemory::kHeap;
  auto graph = build_worker_graph(ForwardingMode::kPolicy, snap.underlay_port, {}, options, &error);
  if (!graph) return nullptr;
  return std::unique_ptr<TraceSession>(new TraceSession(snap, pool, std::move(graph)));
}

TraceSession::TraceSession(const Snapshot& snap, rte_mempool* pool, std::unique_ptr<WorkerGraph> graph)
    : snap_(snap), pool_(pool), graph_(std::move(graph)) {}

TraceSession::~TraceSession() = default;

TraceResult TraceSession::run(uint16_t in_port, const std::vector<uint8_t>& frame) {
  Recorder rec(snap_, graph_->pipeline);
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr || frame.size() > rte_pktmbuf_tailroom(m)) {
    rte_pktmbuf_free(m);
    TraceOutcome o;
    o.reason = DropReason::internal_error;
    rec.result.outcomes.push_back(o);
    return std::move(rec.result);
  }
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  std::memcpy(data, frame.data(), frame.size());
  PktMeta* md = meta(m);
  std::memset(static_cast<void*>(md), 0, sizeof *md);
  md->in_port = in_port;
  md->trace = 1;

  auto stats = std::make_unique<WorkerStats>();  // the trace's own: the workers' stay as they are
  StageCtx ctx;
  ctx.snap = &snap_;
  ctx.now_tsc = rte_rdtsc();
  ctx.stats = stats.get();
  ctx.pool = pool_;
  ctx.tracer = &rec;
  graph_->pipeline.run(ctx, graph_->entry, &m, 1, rec);
  return std::move(rec.result);
}

}  // namespace weft::dp
