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
//
// With several workers, the SNAT port is one whose reply key this worker
// owns (handoff/conn_owner.h), so the replies come home without shared
// state: a port another worker would own is skipped, not tried, and the
// search looks at up to kMaxProbes times the number of workers ports
// (those of the range, if fewer) for kMaxProbes of its own; each worker
// thus has about 1/workers of the range per peer. A floating IP's reply
// key names the worker of its original by itself.
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

  // `self` of `workers`: the worker this stage runs on (handoff/).
  explicit NatStage(ConnTable& table, unsigned self = 0, unsigned workers = 1) noexcept
      : StageWith({"commit"}), table_(table), self_(self), workers_(workers) {}
  std::string_view name() const override { return "nat"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  DropReason bind(const StageCtx& ctx, rte_mbuf* m, bool inbound) noexcept;
  bool still_valid(const Snapshot& snap, uint32_t idx) const noexcept;

  ConnTable& table_;
  unsigned self_;
  unsigned workers_;
};

}  // namespace weft::dp
