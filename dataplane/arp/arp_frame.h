#pragma once
// ARP for Ethernet/IPv4 (RFC 826) as weftd writes it: replies made in place
// from the request they answer, and requests written into a fresh buffer.
// Shared by the overlay's ARP responder (answers for VMs) and the underlay's
// ARP (answers for the VTEP address, resolves next hops).
//
// Pure inline functions over headers the parser has validated: any thread.

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

#include <cstdint>
#include <cstring>

namespace weft::dp {

// The smallest Ethernet frame without FCS: ARP is padded up to it.
inline constexpr uint16_t kArpFrameLen = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
static_assert(sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr) <= kArpFrameLen);

// Turns the request in `eth`/`arp` into the reply "target IP is at `mac`",
// to be sent back out the port it came in on: the requester becomes the
// target, the answered address the sender. The frame keeps its length.
inline void arp_reply_in_place(rte_ether_hdr* eth, rte_arp_hdr* arp, const rte_ether_addr& mac) {
  rte_arp_ipv4& a = arp->arp_data;
  const rte_ether_addr requester = a.arp_sha;
  const rte_be32_t requester_ip = a.arp_sip;
  const rte_be32_t answered_ip = a.arp_tip;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  a.arp_sha = mac;
  a.arp_sip = answered_ip;
  a.arp_tha = requester;
  a.arp_tip = requester_ip;
  eth->dst_addr = requester;
  eth->src_addr = mac;
}

// Writes a broadcast ARP request "who has `target_ip`, tell `sender_ip`"
// (host order) from `sender_mac` into `frame`, which holds kArpFrameLen
// bytes; the bytes past the ARP header are zero padding.
inline void write_arp_request(uint8_t* frame, const rte_ether_addr& sender_mac, uint32_t sender_ip,
                              uint32_t target_ip) {
  std::memset(frame, 0, kArpFrameLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  std::memset(&eth->dst_addr, 0xff, sizeof eth->dst_addr);
  eth->src_addr = sender_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = sizeof(rte_be32_t);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = sender_mac;
  arp->arp_data.arp_sip = rte_cpu_to_be_32(sender_ip);
  arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);
}

}  // namespace weft::dp
