#pragma once
// kRouter: the distributed router of each network, on the node of the VM
// that sends (SPEC.md: "distributed L3 between the subnets of a network on
// the source node"). L2 lookup hands it every frame for the network's
// router MAC; each is, in this order:
//
//   not from a local vNIC                    drop l3_not_local: a peer
//                                            bridges routed frames in, it
//                                            never routes them again; but
//                                            on the node that hosts a
//                                            gateway, a frame tunnelled in
//                                            for a network it serves is
//                                            routed once more, only by the
//                                            gateway route out of the
//                                            external port (no TTL, MACs
//                                            or ICMP errors: the source
//                                            node's router did those)
//   not IPv4                                 drop l3_not_ipv4
//   for a router address (a subnet's         ICMP echo request: answered in
//     gateway)                               place (kAnswer); anything else
//                                            drop l3_to_router
//   TTL <= 1                                 time exceeded (kIcmpError,
//                                            l3_ttl_exceeded)
//   no route in the network's FIB            net unreachable (kIcmpError,
//                                            no_route)
//   connected, but no port holds the         host unreachable (kIcmpError,
//     address                                l3_host_unknown)
//   the connected subnet's broadcast         drop l3_host_unknown, no ICMP
//     address                                error (RFC 1812 4.3.2.7)
//   larger than the network's MTU            fragmentation needed with DF,
//                                            else dropped (kIcmpError,
//                                            l3_mtu_exceeded)
//   a port bound to no vNIC                  drop l2_port_unbound
//   otherwise                                kRouted: out_port (and tunnel)
//                                            of the destination port, or of
//                                            a static route's next-hop
//                                            port, or the gateway route's
//                                            (the gateway node's VTEP, or
//                                            the external port where it is
//                                            hosted: gateway/nat.h), and
//                                            the rewrite (router MAC -> its
//                                            MAC, TTL - 1) that the tail
//                                            applies
//
// What comes next for a routed packet is what comes for a bridged one: the
// security groups (egress at the source port, ingress at the destination
// port), the flow cache's record, the tail. A flow-cache hit replays the
// recorded output and rewrite and never reaches this stage.
//
// The FIB of each run of packets of one network is looked up in one
// rte_fib_lookup_bulk call, the connected destinations in one
// rte_hash_lookup_bulk_data.
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// kRouted: to the security groups; kAnswer: a reply from the router,
// out of the port it came in on; kIcmpError: an ICMP error for the sender,
// then the drop of the packet with the reason it carries.
enum class RouterNext : uint8_t { kRouted, kAnswer, kIcmpError, kCount };

class RouterStage final : public StageWith<RouterNext> {
 public:
  RouterStage() noexcept : StageWith({"routed", "answer", "icmp_error"}) {}

  std::string_view name() const override { return "router"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  void route(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept;
};

}  // namespace weft::dp
