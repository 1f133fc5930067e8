#include "dataplane/weftd/graph.h"

#include "dataplane/arp/arp_responder.h"
#include "dataplane/l2/flood.h"
#include "dataplane/l2/l2_lookup.h"
#include "dataplane/overlay/ingress.h"
#include "dataplane/pipeline/parse.h"
#include "dataplane/pipeline/policy_gate.h"
#include "dataplane/pipeline/xconnect.h"
#include "dataplane/portsec/port_security.h"
#include "dataplane/underlay/underlay_arp.h"
#include "dataplane/vxlan/decap.h"
#include "dataplane/vxlan/encap.h"

namespace weft::dp {
namespace {

template <typename S, typename... Args>
S& add_stage(WorkerGraph& g, NodeId id, Args&&... args) {
  auto stage = std::make_unique<S>(std::forward<Args>(args)...);
  S& ref = *stage;
  g.pipeline.set_stage(id, stage.get());
  g.stages.push_back(std::move(stage));
  return ref;
}

}  // namespace

std::unique_ptr<WorkerGraph> build_worker_graph(ForwardingMode mode, uint16_t underlay_port,
                                                std::span<const uint16_t> ports) {
  auto g = std::make_unique<WorkerGraph>();
  g->entry = NodeId::kParse;

  const NodeId after_parse =
      mode == ForwardingMode::kXconnect ? NodeId::kXconnect : NodeId::kPolicyGate;
  auto& parse = add_stage<ParseStage>(*g, NodeId::kParse, after_parse);
  // Only the underlay carries tunnels: a VM's own UDP to port 4789 is
  // plain UDP.
  parse.set_vxlan_all_ports(false);
  parse.set_vxlan_port(underlay_port, true);

  switch (mode) {
    case ForwardingMode::kPolicy:
      add_stage<PolicyGateStage>(*g, NodeId::kPolicyGate, NodeId::kIngress);
      // The L2 overlay; each stage names its successors itself.
      add_stage<IngressStage>(*g, NodeId::kIngress);
      add_stage<UnderlayArpStage>(*g, NodeId::kUnderlayArp);
      add_stage<VxlanDecapStage>(*g, NodeId::kVxlanDecap);
      add_stage<PortSecurityStage>(*g, NodeId::kPortSecurity);
      add_stage<ArpResponderStage>(*g, NodeId::kArpResponder);
      add_stage<L2LookupStage>(*g, NodeId::kL2Lookup);
      add_stage<FloodStage>(*g, NodeId::kFlood);
      add_stage<VxlanEncapStage>(*g, NodeId::kVxlanEncap);
      break;
    case ForwardingMode::kXconnect:
      add_stage<XconnectStage>(*g, NodeId::kXconnect, XconnectStage::paired(ports));
      break;
  }
  return g;
}

}  // namespace weft::dp
