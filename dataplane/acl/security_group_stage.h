#pragma once
// kSecurityGroup: the stateful security groups' decision, on the flow
// cache's slow path. The packets that reach it have walked the pipeline
// after a flow-cache miss (kFlowLookup), so L2 lookup has said where they
// go: a local vNIC or a remote VTEP.
//
// A new connection is checked where its ends are (SPEC.md: egress at the
// source, ingress at the destination): against the egress rules of its
// originator's port when that port is on this node, and against the
// ingress rules of its responder's port when that one is; between two
// ports of this node, both. The rules see the connection as it was opened
// (the originator's address, the responder's, the destination port or
// ICMP type), whichever direction the packet at hand goes, so a connection
// decided again after a policy change (kStale, perhaps on a reply) meets
// the same rules as its first packet did. All checks of a burst are two
// rte_acl classifications, one per direction (SecurityGroupTable).
//
//   new or stale connection, allowed   -> kCommit: kFlowCommit records it
//   new connection, denied             -> drop sg_egress_denied or
//                                         sg_ingress_denied, counted on the
//                                         port whose rules refused it
//   stale connection, denied           -> the same, and its entry removed:
//                                         the new policy cut it
//   ICMP neither echo nor error        -> the same checks, then straight on
//   first packet of a reply direction  -> kCommit, no check: replies of
//                                         an allowed connection always pass
//   ICMP error RELATED, ARP            -> straight on to the tail
//
// The same stage, as kSecurityGroupFlood, judges the copies of a flooded
// frame (broadcast, multicast, unknown unicast), which are no connection:
// each IPv4 copy as a packet of its own, against the egress rules of the
// port it came from and the ingress rules of the port the copy is for;
// nothing is recorded. A frame that is flooded because its destination
// MAC is unknown never becomes a cached flow that would send the next
// packet to one member of the flood.
//
// Runs on the worker that owns the connection table; reads the snapshot.

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class SgMode : uint8_t {
  kConnections,  // kSecurityGroup: known unicast after a flow-cache miss
  kReplicas,     // kSecurityGroupFlood: flood copies, each judged alone
};

// kCommit: a connection's walk is recorded (kFlowCommit); the others: the
// tail (pipeline/tail.h), for what is not recorded.
enum class SecurityGroupNext : uint8_t { kCommit, kRewrite, kEncap, kLocal, kQos, kCount };

class SecurityGroupStage final : public StageWith<SecurityGroupNext> {
 public:
  explicit SecurityGroupStage(ConnTable& table, SgMode mode = SgMode::kConnections) noexcept
      : StageWith({"commit", "rewrite", "encap", "local", "qos"}), table_(table), mode_(mode) {}

  std::string_view name() const override {
    return mode_ == SgMode::kConnections ? "security_group" : "security_group_flood";
  }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  void check(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept;

  ConnTable& table_;
  SgMode mode_;
};

}  // namespace weft::dp
