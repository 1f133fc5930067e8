#pragma once
// kFlowLookup: the unified flow cache's fast path (docs/architecture.md,
// "Unified flow cache"). Every IPv4 packet of the overlay meets it once,
// from a vNIC after port security or from the underlay after decap; the
// burst is looked up in the worker's connection table at once
// (ConnTable::lookup_bulk), and each packet then:
//
//   hit, entry decided under this snapshot, this direction recorded
//       -> the TCP/UDP/ICMP state moves on (conn_state.h), and the packet
//          jumps to the recorded tail step (pipeline/tail.h: rewrite, encap
//          or local tx) with the recorded output, rewrite and, for a
//          translated connection, its translation: one lookup and no other
//          table
//   hit, entry decided under an older snapshot -> the full walk (kStale):
//          the security groups decide again, kFlowCommit re-records; a
//          connection they deny is cut (ConnTable::cut)
//   hit, a cut connection under this snapshot -> ct_cut, either way
//   hit, this direction not recorded yet (the first reply) -> the walk (kPath)
//   miss, a packet that may open a connection -> the walk (kNew)
//   ICMP error quoting a packet of a live connection, not cut, in a
//       direction the connection has gone, from the connection's peer or
//       a router address of the network -> the walk, as RELATED
//       (a translated connection's quote in its translated form: with
//       PktMeta::xlate_conn, for the rewrite to translate the error back)
//   ICMP neither echo nor error, IPv4 to a broadcast or multicast MAC
//       -> the walk, judged alone (kStateless)
//   ARP -> the walk, untracked
//
// Drops: a packet that does not fit its connection's state, or may not
// open one (a SYN-ACK or RST with no connection, an echo reply to nothing)
// ct_invalid; a recorded direction arriving on another port, or from
// another peer VTEP, ct_port_mismatch (the latter after kTunnelSource's
// source checks); an ICMP error about nothing tracked
// ct_related_untracked, about a cut connection ct_cut, quoting a direction
// its connection never went or from an address off its path
// ct_related_mismatch (on the gateway's external network: about nothing
// gw_icmp_untracked, quoting what cannot be read icmp_xlate_malformed), a source quench or redirect ct_icmp_forbidden; fragments ct_fragment; IPv6 ct_not_ipv4; a packet
// that matched a translated connection's reply key from its own side
// ct_tuple_clash.
// Every burst also sweeps a few entries for expiry (ConnTable::expire).
//
// Runs on the worker that owns the table; one table per worker, shared
// with that worker's kSecurityGroup and kFlowCommit.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// kWalk: not a hit, the full pipeline decides; kWalkTunnel: the same for a
// decapsulated frame, whose inner source is checked first (kTunnelSource);
// kExternalWalk: the same for a packet from the gateway's external network
// (VNI 0, gateway/); the others: the tail.
enum class FlowLookupNext : uint8_t { kWalk, kWalkTunnel, kRewrite, kEncap, kLocal, kQos, kExternalWalk, kCount };

class FlowLookupStage final : public StageWith<FlowLookupNext> {
 public:
  static constexpr uint32_t kDefaultSweepPerBurst = 8;

  explicit FlowLookupStage(ConnTable& table, uint32_t sweep_per_burst = kDefaultSweepPerBurst) noexcept
      : StageWith({"walk", "walk_tunnel", "rewrite", "encap", "local", "qos", "external_walk"}),
        table_(table),
        sweep_(sweep_per_burst) {}

  std::string_view name() const override { return "flow_lookup"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  void lookup(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept;
  DropReason related_check(const StageCtx& ctx, const rte_mbuf* m, const PacketTuple& t, uint32_t idx,
                           bool via_reply, uint32_t& xlate) const noexcept;

  ConnTable& table_;
  uint32_t sweep_;
};

}  // namespace weft::dp
