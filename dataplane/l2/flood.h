#pragma once
// kFlood: broadcast, multicast and unknown unicast within one network. The
// frame goes once to every member of its network's flood list
// (L2Table::flood, by network) except where it came from:
//
//   from a vNIC:      every other local vNIC of the network, and every
//                     remote VTEP with a port in it (via kVxlanEncap)
//   from the underlay: every local vNIC of the network, never a VTEP (the
//                     sender already flooded to its peers: head-end
//                     replication, RFC 7348 §4.2 without multicast)
//
// The list is the network's own, found by the frame's VNI, so a flood never
// reaches another network. Copies are made with rte_pktmbuf_copy: every
// replica may get its own outer headers prepended, which an indirect mbuf
// sharing one buffer could not take; floods are ARP and the odd broadcast,
// not the bulk of the traffic. The original goes to the last member.
// A frame with nobody to go to is dropped (flood_no_members); a replica
// that finds no free mbuf is counted (flood_copy_failed) and skipped.
//
// Runs on the worker that owns it; reads the snapshot only. Replicas enter
// the pipeline through StageCtx::pipeline.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

struct FloodList;  // l2/l2_table.h

// kCopy: every copy, the original included, out_port (and tunnel) set:
// the security groups judge each (kSecurityGroupFlood).
enum class FloodNext : uint8_t { kCopy, kCount };

class FloodStage final : public StageWith<FloodNext> {
 public:
  FloodStage() noexcept : StageWith({"copy"}) {}

  std::string_view name() const override { return "flood"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  void flood_one(StageCtx& ctx, const Snapshot& snap, const FloodList& net, rte_mbuf* m) noexcept;
};

}  // namespace weft::dp
