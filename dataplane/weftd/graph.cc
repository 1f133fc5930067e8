#include "dataplane/weftd/graph.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "dataplane/arp/arp_responder.h"
#include "dataplane/flowcache/flow_commit.h"
#include "dataplane/flowcache/flow_lookup.h"
#include "dataplane/flowcache/sg_check.h"
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
                                                std::span<const uint16_t> ports,
                                                const GraphOptions& options, std::string* error) {
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
    case ForwardingMode::kPolicy: {
      ConnTableConfig ct = options.conntrack;
      if (ct.tsc_hz == 0) ct.tsc_hz = rte_get_tsc_hz();
      ct.socket_id = static_cast<int>(rte_socket_id());
      // Without hugepages the EAL's memory is 4 KiB pages: the table is
      // better off on transparent huge pages of its own.
      if (ct.memory == TableMemory::kDpdk && !rte_eal_has_hugepages()) ct.memory = TableMemory::kHeap;
      std::string why;
      g->conntrack = ConnTable::create(ct, why);
      if (!g->conntrack) {
        if (error != nullptr) *error = why;
        return nullptr;
      }
      ConnTable& table = *g->conntrack;
      add_stage<PolicyGateStage>(*g, NodeId::kPolicyGate, NodeId::kIngress);
      // The L2 overlay; each stage names its successors itself. IPv4 from
      // either side meets the flow cache first: a hit jumps to kTx or
      // kVxlanEncap, a miss walks L2 lookup (and flood), then the security
      // groups, and its result is recorded (docs/architecture.md).
      add_stage<IngressStage>(*g, NodeId::kIngress);
      add_stage<UnderlayArpStage>(*g, NodeId::kUnderlayArp);
      add_stage<VxlanDecapStage>(*g, NodeId::kVxlanDecap, NodeId::kFlowLookup);
      add_stage<PortSecurityStage>(*g, NodeId::kPortSecurity, NodeId::kFlowLookup);
      add_stage<ArpResponderStage>(*g, NodeId::kArpResponder);
      add_stage<FlowLookupStage>(*g, NodeId::kFlowLookup, table, NodeId::kL2Lookup);
      add_stage<L2LookupStage>(*g, NodeId::kL2Lookup, NodeId::kDrop, NodeId::kSecurityGroup);
      add_stage<FloodStage>(*g, NodeId::kFlood, NodeId::kSecurityGroupFlood);
      add_stage<SecurityGroupStage>(*g, NodeId::kSecurityGroupFlood, table, SgMode::kReplicas);
      add_stage<SecurityGroupStage>(*g, NodeId::kSecurityGroup, table, SgMode::kConnections);
      add_stage<FlowCommitStage>(*g, NodeId::kFlowCommit, table);
      add_stage<VxlanEncapStage>(*g, NodeId::kVxlanEncap);
      break;
    }
    case ForwardingMode::kXconnect:
      add_stage<XconnectStage>(*g, NodeId::kXconnect, XconnectStage::paired(ports));
      break;
  }
  return g;
}

}  // namespace weft::dp
