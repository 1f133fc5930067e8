#include "dataplane/weftd/graph.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "dataplane/acl/security_group_stage.h"
#include "dataplane/arp/arp_responder.h"
#include "dataplane/dhcp/dhcp_stage.h"
#include "dataplane/flowcache/flow_commit.h"
#include "dataplane/flowcache/flow_lookup.h"
#include "dataplane/gateway/external_in.h"
#include "dataplane/gateway/external_out.h"
#include "dataplane/gateway/gateway_in.h"
#include "dataplane/gateway/nat.h"
#include "dataplane/handoff/handoff_stage.h"
#include "dataplane/l2/flood.h"
#include "dataplane/l2/l2_lookup.h"
#include "dataplane/l3/icmp_error_stage.h"
#include "dataplane/l3/router.h"
#include "dataplane/lb/lb_stage.h"
#include "dataplane/lb/probe_reply_stage.h"
#include "dataplane/overlay/ingress.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/policy_gate.h"
#include "dataplane/pipeline/xconnect.h"
#include "dataplane/portsec/port_security.h"
#include "dataplane/qos/qos_stage.h"
#include "dataplane/rewrite/rewrite.h"
#include "dataplane/underlay/underlay_arp.h"
#include "dataplane/vxlan/decap.h"
#include "dataplane/vxlan/encap.h"
#include "dataplane/vxlan/tunnel_source.h"

namespace weft::dp {
namespace {

using N = NodeId;

template <typename S, typename... Args>
S& add_stage(WorkerGraph& g, NodeId id, Args&&... args) {
  auto stage = std::make_unique<S>(std::forward<Args>(args)...);
  S& ref = *stage;
  g.pipeline.set_stage(id, stage.get());
  g.stages.push_back(std::move(stage));
  return ref;
}

// Wires `stage`'s edges, each to its node: the whole of a stage's
// successors in one line of the tables below.
template <typename S>
void wire(S& stage, std::initializer_list<std::pair<typename S::Edge, NodeId>> edges) {
  for (const auto& [e, to] : edges) stage.wire(e, to);
}

// The policy-mode graph: the L2 overlay, the router, the flow cache and the
// security groups, then the tail. IPv4 from either side meets the flow
// cache first: a hit jumps to the tail, a miss walks L2 lookup (and flood,
// or the router), then the security groups, and its result is recorded
// (docs/architecture.md).
bool build_policy_graph(WorkerGraph& g, const GraphOptions& options, std::string* error) {
  ConnTableConfig ct = options.conntrack;
  if (ct.tsc_hz == 0) ct.tsc_hz = rte_get_tsc_hz();
  ct.socket_id = static_cast<int>(rte_socket_id());
  // Without hugepages the EAL's memory is 4 KiB pages: the table is
  // better off on transparent huge pages of its own.
  if (ct.memory == TableMemory::kDpdk && !rte_eal_has_hugepages()) ct.memory = TableMemory::kHeap;
  std::string why;
  g.conntrack = ConnTable::create(ct, why);
  if (!g.conntrack) {
    if (error != nullptr) *error = why;
    return false;
  }
  ConnTable& table = *g.conntrack;
  TokenBucket* icmp_limit = options.icmp_limit;
  if (icmp_limit == nullptr) {
    TokenBucket::Config limit = IcmpErrorStage::kDefaultLimit;
    limit.tsc_hz = ct.tsc_hz;
    g.own_icmp_limit = std::make_unique<TokenBucket>(limit);
    icmp_limit = g.own_icmp_limit.get();
  }

  // With several workers the flow cache is entered through the handoff to
  // the connection's owner.
  const NodeId flow = options.handoff != nullptr ? N::kHandoff : N::kFlowLookup;
  if (options.handoff != nullptr)
    wire(add_stage<HandoffStage>(g, N::kHandoff, *options.handoff), {{HandoffNext::kOwn, N::kFlowLookup}});

  wire(add_stage<PolicyGateStage>(g, N::kPolicyGate), {{PolicyGateNext::kOpen, N::kIngress}});
  wire(add_stage<IngressStage>(g, N::kIngress), {{IngressNext::kVnic, N::kPortSecurity},
                                                  {IngressNext::kTunnel, N::kVxlanDecap},
                                                  {IngressNext::kUnderlayArp, N::kUnderlayArp},
                                                  {IngressNext::kExternal, N::kExternalIn}});
  wire(add_stage<UnderlayArpStage>(g, N::kUnderlayArp), {{UnderlayArpNext::kReply, N::kTx}});
  wire(add_stage<VxlanDecapStage>(g, N::kVxlanDecap), {{VxlanDecapNext::kInner, flow}});
  wire(add_stage<ExternalInStage>(g, N::kExternalIn), {{ExternalInNext::kIp, flow},
                                                        {ExternalInNext::kArpReply, N::kExternalOut}});
  PortSecurityStage::BroadcastLimit broadcast = options.broadcast_limit;
  if (broadcast.tsc_hz == 0) broadcast.tsc_hz = ct.tsc_hz;
  wire(add_stage<PortSecurityStage>(g, N::kPortSecurity, broadcast), {{PortSecurityNext::kIp, flow},
                                                            {PortSecurityNext::kProbed, N::kLbProbeReply},
                                                            {PortSecurityNext::kArp, N::kArpResponder},
                                                            {PortSecurityNext::kDhcp, N::kDhcp}});
  wire(add_stage<ArpResponderStage>(g, N::kArpResponder), {{ArpResponderNext::kAnswer, N::kTx},
                                                            {ArpResponderNext::kForward, N::kFlowLookup}});
  auto& dhcp = add_stage<DhcpStage>(g, N::kDhcp);
  wire(dhcp, {{DhcpNext::kReply, N::kTx}});
  g.dhcp = &dhcp;
  wire(add_stage<ProbeReplyStage>(g, N::kLbProbeReply, options.probes),
       {{ProbeReplyNext::kPass, flow}, {ProbeReplyNext::kAnswer, N::kTx}});
  wire(add_stage<FlowLookupStage>(g, N::kFlowLookup, table), {{FlowLookupNext::kWalk, N::kL2Lookup},
                                                               {FlowLookupNext::kWalkTunnel, N::kTunnelSource},
                                                               {FlowLookupNext::kRewrite, N::kRewrite},
                                                               {FlowLookupNext::kEncap, N::kVxlanEncap},
                                                               {FlowLookupNext::kLocal, N::kTx},
                                                               {FlowLookupNext::kQos, N::kQos},
                                                               {FlowLookupNext::kExternalWalk, N::kGatewayIn}});
  wire(add_stage<TunnelSourceStage>(g, N::kTunnelSource), {{TunnelSourceNext::kChecked, N::kL2Lookup}});
  wire(add_stage<L2LookupStage>(g, N::kL2Lookup), {{L2LookupNext::kUnicast, N::kSecurityGroup},
                                                    {L2LookupNext::kRouted, N::kLoadBalancer},
                                                    {L2LookupNext::kFlood, N::kFlood}});
  wire(add_stage<LoadBalancerStage>(g, N::kLoadBalancer, table),
       {{LoadBalancerNext::kRoute, N::kRouter}, {LoadBalancerNext::kBalanced, N::kSecurityGroup}});
  wire(add_stage<RouterStage>(g, N::kRouter), {{RouterNext::kRouted, N::kSecurityGroup},
                                               {RouterNext::kAnswer, N::kTx},
                                               {RouterNext::kIcmpError, N::kIcmpError}});
  wire(add_stage<GatewayInStage>(g, N::kGatewayIn, table), {{GatewayInNext::kRouted, N::kSecurityGroup}});
  wire(add_stage<FloodStage>(g, N::kFlood), {{FloodNext::kCopy, N::kSecurityGroupFlood}});
  for (auto [node, mode] : {std::pair{N::kSecurityGroupFlood, SgMode::kReplicas},
                            std::pair{N::kSecurityGroup, SgMode::kConnections}})
    wire(add_stage<SecurityGroupStage>(g, node, table, mode), {{SecurityGroupNext::kCommit, N::kNat},
                                                               {SecurityGroupNext::kRewrite, N::kRewrite},
                                                               {SecurityGroupNext::kEncap, N::kVxlanEncap},
                                                               {SecurityGroupNext::kLocal, N::kTx},
                                                               {SecurityGroupNext::kQos, N::kQos}});
  wire(add_stage<NatStage>(g, N::kNat, table, options.handoff != nullptr ? options.handoff->worker() : 0u,
                          options.handoff != nullptr ? options.handoff->workers() : 1u),
       {{NatNext::kCommit, N::kFlowCommit}});
  wire(add_stage<FlowCommitStage>(g, N::kFlowCommit, table), {{FlowCommitNext::kRewrite, N::kRewrite},
                                                               {FlowCommitNext::kEncap, N::kVxlanEncap},
                                                               {FlowCommitNext::kLocal, N::kTx},
                                                               {FlowCommitNext::kQos, N::kQos}});
  wire(add_stage<RewriteStage>(g, N::kRewrite, table), {{RewriteNext::kEncap, N::kVxlanEncap},
                                                         {RewriteNext::kLocal, N::kTx},
                                                         {RewriteNext::kIcmpError, N::kIcmpError},
                                                         {RewriteNext::kQos, N::kQos},
                                                         {RewriteNext::kExternal, N::kExternalOut}});
  wire(add_stage<IcmpErrorStage>(g, N::kIcmpError, *icmp_limit), {{IcmpErrorNext::kLocal, N::kTx},
                                                                     {IcmpErrorNext::kExternal, N::kExternalOut}});
  QosStage::Config qos = options.qos;
  if (qos.tsc_hz == 0) qos.tsc_hz = ct.tsc_hz;
  auto& qos_stage = add_stage<QosStage>(g, N::kQos, qos);
  wire(qos_stage, {{QosNext::kEncap, N::kVxlanEncap},
                   {QosNext::kLocal, N::kTx},
                   {QosNext::kExternal, N::kExternalOut}});
  g.pipeline.set_shaper(qos_stage.shaper());
  wire(add_stage<VxlanEncapStage>(g, N::kVxlanEncap), {{VxlanEncapNext::kOut, N::kTx}});
  wire(add_stage<ExternalOutStage>(g, N::kExternalOut), {{ExternalOutNext::kOut, N::kTx}});
  return true;
}

}  // namespace

std::string check_graph(const Pipeline& p) {
  for (size_t id = 0; id < static_cast<size_t>(N::kTx); ++id) {
    const Stage* s = p.stage(static_cast<NodeId>(id));
    if (s == nullptr) continue;
    const auto names = s->edge_names();
    for (size_t e = 0; e < names.size(); ++e) {
      const auto to = static_cast<size_t>(s->edge(e));
      if (!s->wired(e)) return std::string(s->name()) + ": edge '" + std::string(names[e]) + "' is not wired";
      if (to <= id || to >= kNodeCount)
        return std::string(s->name()) + ": edge '" + std::string(names[e]) + "' does not lead forward";
      if (to < static_cast<size_t>(N::kTx) && p.stage(static_cast<NodeId>(to)) == nullptr)
        return std::string(s->name()) + ": edge '" + std::string(names[e]) + "' leads to a node with no stage";
    }
  }
  return {};
}

std::unique_ptr<WorkerGraph> build_worker_graph(ForwardingMode mode, uint16_t underlay_port,
                                                std::span<const uint16_t> ports,
                                                const GraphOptions& options, std::string* error) {
  auto g = std::make_unique<WorkerGraph>();
  g->entry = N::kParse;

  auto& parse = add_stage<ParseStage>(*g, N::kParse);
  // Only the underlay carries tunnels: a VM's own UDP to port 4789 is
  // plain UDP.
  parse.set_vxlan_all_ports(false);
  parse.set_vxlan_port(underlay_port, true);

  switch (mode) {
    case ForwardingMode::kPolicy:
      parse.wire(ParseNext::kParsed, N::kPolicyGate);
      if (!build_policy_graph(*g, options, error)) return nullptr;
      break;
    case ForwardingMode::kXconnect:
      parse.wire(ParseNext::kParsed, N::kXconnect);
      wire(add_stage<XconnectStage>(*g, N::kXconnect, XconnectStage::paired(ports)),
           {{XconnectNext::kOut, N::kTx}});
      break;
  }
  if (std::string why = check_graph(g->pipeline); !why.empty()) {
    if (error != nullptr) *error = "pipeline graph: " + why;
    return nullptr;
  }
  return g;
}

}  // namespace weft::dp
