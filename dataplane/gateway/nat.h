#pragma once
// kNat: the gateway's translations (SNAT and floating IPs), bound to a
// connection when it is made and checked when a policy change makes it
// walk again. It sits between the security groups and the flow commit:
// a connection is translated only once its ports' rules allowed it, and
// its translation is in place before kFlowCommit records the path (which
// then ends in the tail's rewrite, where the headers are translated).
//
// A new connection out of the external port (the router's gateway route):
//
//   from a port with a floating IP        source -> the floating IP, ports
//                                         kept (1:1)
//   from any other port of a served       source -> the external IP and a
//     network (private subnets, and        port of the SNAT range (TCP,
//     public ones without a floating IP)   UDP; the echo identifier for
//                                         ICMP) that no live connection to
//                                         the same peer holds: the
//                                         connection's reply key
//                                         (ConnTable::translate) is the
//                                         mapping, so the table refuses a
//                                         second holder
//   no port free after kMaxProbes tries   drop gw_ports_exhausted; no
//     (or the whole range, if smaller)     established connection is
//                                         touched
//   from a network the gateway does not   drop gw_not_served
//     serve
//
// A new connection in from the external port (to a floating IP:
// kGatewayIn routed it): destination -> the port's address, ports kept.
// A reply tuple that another connection holds: gw_xlate_clash.
//
// A translated connection decided again under a new snapshot (kStale):
// its floating IP must still be its port's, the SNAT address still the
// gateway's and its network still served; otherwise the connection is cut
// (ConnTable::cut: a tombstone drops both directions, ct_cut) and this
// packet dropped as gw_binding_gone. Translations the change leaves valid
// survive it: they are binding state, never recomputed.
//
// Everything else (connections that do not cross the gateway, later
// packets of a direction) passes untouched to kFlowCommit.
//
// Runs on the worker that owns the connection table.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class NatNext : uint8_t { kCommit, kCount };

class NatStage final : public StageWith<NatNext> {
 public:
  static constexpr uint32_t kMaxProbes = 64;

  explicit NatStage(ConnTable& table) noexcept : StageWith({"commit"}), table_(table) {}
  std::string_view name() const override { return "nat"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  DropReason bind(const StageCtx& ctx, rte_mbuf* m, bool inbound) noexcept;
  bool still_valid(const Snapshot& snap, uint32_t idx) const noexcept;

  ConnTable& table_;
};

}  // namespace weft::dp
