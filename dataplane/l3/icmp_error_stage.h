#pragma once
// kIcmpError: where the router (and the tail's rewrite, for a flow-cache
// hit) sends a packet it will not forward, with the reason already in
// PktMeta::drop_reason. The sender hears why, as an ICMP error from its
// subnet's gateway (RFC 792, RFC 1812 §4.3):
//
//   l3_ttl_exceeded   time exceeded in transit (11/0): traceroute's hop
//   no_route          destination net unreachable (3/0)
//   l3_host_unknown   destination host unreachable (3/1)
//   l3_mtu_exceeded   fragmentation needed (3/4) with the network's MTU as
//                     the next-hop MTU (RFC 1191), when the packet has DF;
//                     without DF, nothing (it is dropped: never fragmented)
//
// and the packet itself is then dropped under that reason, counted where
// it was decided. No error is made where RFC 1812 forbids one (about an
// ICMP error, a later fragment, a broadcast or multicast, a martian source:
// l3/icmp_error.h) or when the node's rate limit (one TokenBucket shared by
// every worker) has no token: those count as icmp_errors_limited, and the
// errors sent as icmp_errors_sent (WorkerStats).
//
// The error is a new mbuf from StageCtx::pool, out of the port the packet
// came in on (kLocal): routing happens on the sender's node, so its vNIC is
// local. A packet from the gateway's external network (the tail's rewrite
// refused it, before translating it: TTL, the served network's MTU) hears
// from the gateway's external IP, out of the external port (kExternal:
// the next hop's MAC, the binding's VLAN tag).
//
// Runs on any worker; TokenBucket::try_take is safe against the others.

#include "dataplane/l3/token_bucket.h"
#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class IcmpErrorNext : uint8_t { kLocal, kExternal, kCount };

class IcmpErrorStage final : public StageWith<IcmpErrorNext> {
 public:
  // The node's limit on errors; the ICMP rate Linux allows by default.
  static constexpr TokenBucket::Config kDefaultLimit{.rate = 1000, .burst = 50, .tsc_hz = 0};

  // `limit`: shared by every worker of the node; borrowed.
  explicit IcmpErrorStage(TokenBucket& limit) noexcept : StageWith({"local", "external"}), limit_(limit) {}

  std::string_view name() const override { return "icmp_error"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  TokenBucket& limit_;
};

}  // namespace weft::dp
