#pragma once
// kLoadBalancer: the distributed L4 load balancer, on the client's node
// (no central hop). Clients reach a VIP through the router MAC (ARP
// suppression answers for a VIP with it), so L2 lookup hands this stage
// every frame for the router MAC after a flow-cache miss; what is not for
// a VIP goes on to the router (kRoute). Each packet, in this order:
//
//   not IPv4 from a local vNIC of the policy  kRoute: the router's drops
//   a translated connection walking again     kBalanced, to where its
//     (PktMeta::xlate_conn: a policy change,  translation sends it: the
//     or its first reply)                     backend the way it was
//                                             opened, the client back; but
//                                             after a policy change, when
//                                             its VIP is still one and the
//                                             backend is no longer in the
//                                             listener's selection
//                                             (removed, weight 0, health
//                                             check failed): drop
//                                             lb_backend_gone and the
//                                             connection cut, never moved
//                                             (a translation to no VIP, a
//                                             gateway's or that of a load
//                                             balancer removed whole, runs
//                                             out where it is bound)
//   a new TCP or UDP connection to a          a backend by Maglev on the
//     listener (VNI, VIP, protocol, port)     flow hash (lb_table.h); the
//                                             connection's entry made here
//                                             and translated
//                                             (ConnTable::translate):
//                                             destination -> backend and
//                                             target port, and, when the
//                                             client is the backend itself
//                                             (hairpin), source -> the VIP
//                                             so the backend answers
//                                             through this node; kBalanced
//       ... no backend in the selection       drop lb_no_backend
//       ... no room for the entry             drop ct_table_full
//       ... reply tuple taken                 drop lb_xlate_clash
//   anything else to a VIP                    drop lb_no_listener
//   anything else                             kRoute
//
// kBalanced packets carry out_port, tunnel and the rewrite that delivers
// to the address their translation sends them to (the routed hosts table,
// l3/route_table.h), and xlate_conn: the security groups judge them next
// (the client's egress against the VIP, the backend's ingress against the
// client's address and the target port), kFlowCommit records the path,
// the tail's rewrite applies MACs, TTL and the translation. Later packets
// are flow-cache hits that never come here: the backend a connection got
// is state in its entry, whatever later snapshots' Maglev tables say.
//
// Runs on the worker that owns the connection table; reads the snapshot.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

struct LbTable;

enum class LoadBalancerNext : uint8_t { kRoute, kBalanced, kCount };

class LoadBalancerStage final : public StageWith<LoadBalancerNext> {
 public:
  explicit LoadBalancerStage(ConnTable& table) noexcept
      : StageWith({"route", "balanced"}), table_(table) {}

  std::string_view name() const override { return "load_balancer"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  void balance(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept;
  void route_or_refuse(const LbTable& lbt, rte_mbuf* m) const noexcept;
  // The connection's entry for a new connection to listener `l`, made and
  // translated; kNone with the drop reason in `why`.
  uint32_t open(const StageCtx& ctx, rte_mbuf* m, const PacketTuple& t, uint32_t listener,
                DropReason& why) noexcept;

  ConnTable& table_;
};

}  // namespace weft::dp
