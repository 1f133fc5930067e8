#pragma once
// kExternalOut: the last step before the gateway's external port. A
// translated packet (from the tail's rewrite) gets the port's MAC as
// source and the external next hop's as destination; the ARP reply of
// kExternalIn keeps the MACs it was given. Then both get the binding's
// VLAN tag, if any (vlan.h).
//
// The next hop's MAC comes from Snapshot::external_neighbors, learned by
// kExternalIn from the reply to this node's own request. Unresolved: the
// packet is dropped (gw_next_hop_unresolved) and an ARP request for the
// next hop goes out, at most one per probe interval across workers; a MAC
// unconfirmed for the reachable time keeps being used and is probed
// again, as the underlay's neighbors are (underlay/neighbor_table.h).
// No tag room: gw_no_headroom.
//
// Runs on any worker; reads the snapshot and the shared ARP cache.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class ExternalOutNext : uint8_t { kOut, kCount };

class ExternalOutStage final : public StageWith<ExternalOutNext> {
 public:
  ExternalOutStage() noexcept : StageWith({"out"}) {}
  std::string_view name() const override { return "external_out"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  // An ARP request for the next hop, tagged, queued for the port.
  void probe(StageCtx& ctx, const Snapshot& snap) const noexcept;
};

}  // namespace weft::dp
