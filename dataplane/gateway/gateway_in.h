#pragma once
// kGatewayIn: a packet from the external network that the flow cache could
// not finish (a miss, a connection decided under an older snapshot, the
// first packet of a direction), on its way to a port of a served network.
// Where it goes:
//
//   a reply of a connection a VM opened       to that VM: the connection's
//     (SNAT or its floating IP: the flow        original source, in its
//     cache found its reply key)                network
//   a packet of an inbound connection to a     to the port the connection
//     floating IP                               was translated to
//   a new connection to a floating IP          to the floating IP's port;
//                                               kNat binds the translation
//                                               after the port's security
//                                               groups (ingress, against
//                                               the external source) allow it
//   a new connection to the external IP        drop gw_no_mapping: nothing
//     (an unallocated port, no connection)      from outside opens one
//   an ICMP error about a translated           where that connection's
//     connection (kFlowLookup matched its        packets go the same way;
//     quote in its translated form)              the tail's rewrite
//                                               translates it, quote
//                                               included (rewrite/
//                                               icmp_xlate.h)
//   ICMP neither echo nor error, or an error   drop gw_stateless
//     about no translation
//   a port that is gone (policy change)        drop gw_binding_gone
//   a port bound to no vNIC here               drop l2_port_unbound
//
// The destination is found in the router's hosts table ((VNI, IPv4) ->
// local vNIC or remote VTEP, and the rewrite that delivers there: the
// network's router MAC, the port's MAC, TTL - 1, the network's MTU).
// The packet keeps VNI 0 until the tail's rewrite translates it, so the
// security groups and the flow commit see the connection's key as the
// flow cache built it.
//
// Runs on the worker that owns the connection table; reads it and the
// snapshot.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class GatewayInNext : uint8_t { kRouted, kCount };

class GatewayInStage final : public StageWith<GatewayInNext> {
 public:
  explicit GatewayInStage(const ConnTable& table) noexcept : StageWith({"routed"}), table_(table) {}
  std::string_view name() const override { return "gateway_in"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  const ConnTable& table_;
};

}  // namespace weft::dp
