#pragma once
// ARP where the node is an ordinary IPv4 host on a shared segment: the
// underlay (its VTEP address, UnderlayArpStage) and the gateway's external
// network (its external and floating IPs, gateway/external_in.h). The rules
// are the same on both (underlay_arp.h spells them out): a request for one
// of our addresses is answered and teaches nothing; a MAC is learned only
// for a neighbor the NeighborTable tracks, from the reply to this node's
// own outstanding request, or from the neighbor's gratuitous ARP of its own
// address on the segment; everything else is someone else's business.
//
// Any worker; NeighborTable::learn is safe against the others.

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

#include <cstdint>

#include "dataplane/underlay/neighbor_table.h"

namespace weft::dp {

enum class HostArp : uint8_t {
  kAnswer,   // a request for one of our addresses: reply in place (arp_frame.h)
  kLearned,  // the reply to our own request: learned, consume it
  kNotOurs,  // anything else (a gratuitous ARP may have been learned from)
};

// `is_own(be32 address)`: one of the node's addresses on the segment;
// `on_link(host-order address)`: inside the segment's subnet.
template <typename IsOwn, typename OnLink>
HostArp host_arp(NeighborTable& neighbors, const rte_arp_hdr& arp, uint64_t now, IsOwn is_own,
                 OnLink on_link) noexcept {
  const rte_arp_ipv4& a = arp.arp_data;
  // A sender that is no unicast host gets neither an entry nor an answer.
  if (!rte_is_valid_assigned_ether_addr(&a.arp_sha)) return HostArp::kNotOurs;
  const uint32_t sender = rte_be_to_cpu_32(a.arp_sip);
  const uint32_t slot = neighbors.find(sender);
  const uint16_t op = rte_be_to_cpu_16(arp.arp_opcode);
  // A gratuitous ARP (sender and target the same address) from a tracked
  // neighbor's own address on the segment: it moved.
  if (slot != NeighborTable::kNone && a.arp_sip == a.arp_tip && on_link(sender) &&
      (op == RTE_ARP_OP_REQUEST || op == RTE_ARP_OP_REPLY))
    neighbors.learn(slot, sender, a.arp_sha, now);
  if (!is_own(a.arp_tip)) return HostArp::kNotOurs;
  // Answered, but nothing learned from it: anyone may ask.
  if (op == RTE_ARP_OP_REQUEST) return HostArp::kAnswer;
  if (op == RTE_ARP_OP_REPLY && slot != NeighborTable::kNone && neighbors.take_expected_reply(slot, now)) {
    neighbors.learn(slot, sender, a.arp_sha, now);
    return HostArp::kLearned;
  }
  return HostArp::kNotOurs;
}

}  // namespace weft::dp
