#pragma once
// Every reason weftd drops a packet, each with its own counter. A stage that
// drops sets `PktMeta::drop_reason` and sends the packet to the kDrop node;
// nothing is dropped silently. Names are stable: they appear in
// `weftctl node stats` and in tests.

#include <array>
#include <cstdint>
#include <string_view>

namespace weft::dp {

// X(name, description). Append new reasons in the stage's own block.
#define WEFT_DROP_REASONS(X)                                                    \
  /* parse: truncated_* = the data, or the IP packet as its length field */    \
  /* declares it, ends inside that header; bad_* = a field is invalid */       \
  X(truncated_eth, "frame shorter than an Ethernet header")                     \
  X(truncated_vlan, "frame ends inside an 802.1Q/802.1ad tag")                  \
  X(too_many_vlans, "more than two VLAN tags")                                  \
  X(truncated_arp, "frame ends inside the ARP header")                          \
  X(bad_arp, "ARP that is not Ethernet/IPv4")                                   \
  X(truncated_ipv4, "frame ends inside the IPv4 header or its options")         \
  X(bad_ipv4_version, "IPv4 ethertype but version is not 4")                    \
  X(bad_ipv4_ihl, "IPv4 header length below 20 bytes")                          \
  X(bad_ipv4_total_length,                                                      \
    "IPv4 total length below the header or past the frame")                     \
  X(truncated_ipv6,                                                             \
    "packet ends inside the IPv6 header or an extension header")                \
  X(bad_ipv6_version, "IPv6 ethertype but version is not 6")                    \
  X(bad_ipv6_payload_length, "IPv6 payload length past the frame")              \
  X(bad_ipv6_ext_header,                                                        \
    "IPv6 extension headers misordered, too many or past the payload")          \
  X(truncated_tcp, "packet ends inside the TCP header")                         \
  X(bad_tcp_offset, "TCP data offset below 5 words or past the IP packet")      \
  X(truncated_udp, "packet ends inside the UDP header")                         \
  X(bad_udp_length, "UDP length below 8 or past the IP packet")                 \
  X(truncated_icmp, "packet shorter than the 8-byte ICMP/ICMPv6 header")        \
  X(truncated_vxlan, "UDP/4789 payload shorter than the VXLAN header")          \
  X(bad_vxlan_flags, "VXLAN flags byte is not exactly the I flag")              \
  X(unsupported_ethertype, "neither IPv4, IPv6 nor ARP")                        \
  /* forwarding */                                                              \
  X(no_policy, "no tables applied yet")                                         \
  X(no_route, "no forwarding entry for the destination")                        \
  X(tx_full, "transmit queue full")                                             \
  X(pipeline_overflow, "more packets than a stage's input can hold")           \
  X(internal_error,                                                             \
    "a wiring mistake: an unwired edge, a node with no stage, a bad index")     \
  /* L2 overlay: ingress, underlay ARP, VXLAN decap */                          \
  X(port_not_in_policy, "frame from a vNIC bound to no port of the policy")     \
  X(underlay_not_vxlan, "underlay packet that is neither VXLAN nor ARP")        \
  X(underlay_arp_not_ours, "underlay ARP about another host")                   \
  X(underlay_arp_learned, "underlay ARP reply: neighbor learned, consumed")     \
  X(vxlan_not_local, "VXLAN to an address that is not this node's VTEP")        \
  X(vxlan_unknown_vtep, "VXLAN from an address that is no known node's VTEP")   \
  X(vxlan_unknown_vni, "VXLAN with a VNI of no network on this node")           \
  X(vxlan_decap_mtu, "tunnelled frame larger than its network's MTU")           \
  X(vxlan_vni_not_hosted,                                                       \
    "VXLAN from a peer VTEP that hosts no port of that VNI's network")          \
  X(vxlan_inner_vlan, "tunnelled frame with a VLAN tag")                        \
  X(vxlan_inner_src_multicast,                                                  \
    "tunnelled frame from a multicast or broadcast source MAC")                 \
  X(vxlan_inner_src_spoofed,                                                    \
    "tunnelled frame whose source MAC or IP the policy places elsewhere")       \
  /* L2 overlay: port security */                                               \
  X(portsec_vlan, "VLAN-tagged frame from a vNIC")                              \
  X(portsec_mac, "source MAC (or ARP sender MAC) not the port's")               \
  X(portsec_ip,                                                                 \
    "source IPv4 (or ARP sender IP) neither the port's nor allowed")            \
  X(portsec_ipv6, "IPv6 from a vNIC: ports own IPv4 addresses only")            \
  X(portsec_dhcp_server, "DHCP server traffic (UDP 67 -> 68) from a vNIC")      \
  X(portsec_broadcast_limit,                                                    \
    "broadcast or multicast from a vNIC over its port's rate")                 \
  /* the node's DHCP server (dhcp/) */                                          \
  X(dhcp_refused, "DHCP to the node that is malformed or not the port's own")   \
  X(dhcp_no_answer, "DHCP RELEASE, DECLINE or a REQUEST for another server")    \
  X(dhcp_disabled, "DHCP from a port whose subnet has dhcp: false")             \
  /* L2 overlay: L2 lookup, flood, VXLAN encap */                               \
  X(l2_same_port, "destination MAC is behind the port the frame came from")     \
  X(l2_port_unbound, "destination port is on this node but bound to no vNIC")   \
  X(l2_underlay_to_underlay, "tunnelled frame for a remote VTEP: never returned") \
  X(flood_no_members, "broadcast or unknown unicast with no one to flood to")   \
  X(flood_copy_failed, "no mbuf for a flood replica (counted, no packet)")      \
  X(vxlan_encap_mtu, "frame from a vNIC larger than its network's MTU")         \
  X(vxlan_no_headroom, "no mbuf headroom for the outer headers")                \
  X(vxlan_no_underlay_route, "VTEP off the underlay subnet and no next hop")    \
  X(vxlan_neighbor_unresolved, "underlay next hop's MAC unknown: ARP sent")     \
  /* security groups and connection tracking (flowcache/, conntrack/, acl/) */  \
  X(sg_egress_denied, "new connection no egress rule of the source port allows") \
  X(sg_ingress_denied,                                                          \
    "new connection no ingress rule of the destination port allows")            \
  X(ct_invalid, "TCP flags or ICMP type that do not fit the connection's state") \
  X(ct_table_full, "new connection and no conntrack entry free or evictable")   \
  X(ct_related_untracked, "ICMP error about no tracked connection")             \
  X(ct_port_mismatch, "packet of a connection on another port than its own")    \
  X(ct_cut, "packet of a connection a policy change denied, either way")        \
  X(ct_fragment, "IPv4 fragment: no reassembly, so no ports to match")          \
  X(ct_not_ipv4, "IPv6 on the overlay: ports and security groups are IPv4")    \
  X(ct_tuple_clash,                                                             \
    "a translated connection's reply tuple, sent the wrong way")                 \
  X(ct_icmp_forbidden, "ICMP source quench or redirect: never accepted")        \
  X(ct_related_mismatch,                                                        \
    "ICMP error quoting a packet its connection never sent that way, "          \
    "or from an address off the connection's path")                             \
  /* the distributed router (l3/) and the tail's rewrite (rewrite/) */          \
  X(l3_ttl_exceeded, "routed IPv4 packet with TTL <= 1")                        \
  X(l3_mtu_exceeded, "routed IPv4 packet larger than the destination's MTU")    \
  X(l3_host_unknown, "routed to a connected subnet address no port holds")      \
  X(l3_not_local, "frame for the router MAC from the underlay: never routed twice") \
  X(l3_not_ipv4, "frame for the router MAC that is not IPv4")                   \
  X(l3_to_router, "to a router address, and no echo request")                  \
  /* QoS (qos/) */                                                               \
  X(qos_policed, "over its port's or its class's QoS rate (policer, red)")      \
  X(qos_queue_full, "its shaper's queue for its port and class is full")       \
  /* the load balancer (lb/) */                                                 \
  X(lb_no_listener, "to a VIP, on no port one of its listeners serves")         \
  X(lb_no_backend, "new connection to a listener with no healthy backend")      \
  X(lb_xlate_clash,                                                             \
    "new connection whose translated reply tuple another connection holds")     \
  X(lb_backend_gone,                                                            \
    "packet of a connection whose backend was removed or failed its health check") \
  X(lb_probe_reply, "health-check probe reply, read by the prober (consumed)")  \
  X(lb_probe_lost, "health-check probe reply, and the prober's inbox full")     \
  /* the gateway: external port, NAT (gateway/) */                              \
  X(gw_not_ipv4, "external port: neither IPv4 nor ARP")                         \
  X(gw_vlan_mismatch, "external port: VLAN tag other than the binding's")       \
  X(gw_not_for_us, "external port: to another MAC than the port's")             \
  X(gw_arp_not_ours, "external port: ARP about another host")                   \
  X(gw_arp_learned, "external port: next hop's ARP reply learned, consumed")    \
  X(gw_unknown_destination,                                                     \
    "external port: to neither the external IP nor a floating IP")              \
  X(gw_martian_source,                                                          \
    "external port: from a martian or one of the gateway's own addresses")      \
  X(gw_no_mapping,                                                              \
    "from outside to the external IP and no connection: nothing opens one")     \
  X(gw_stateless, "ICMP from outside that is neither echo nor an error")        \
  X(gw_ports_exhausted, "new connection and no SNAT port (or identifier) free") \
  X(gw_not_served, "to the gateway from a network it does not serve")           \
  X(gw_xlate_clash,                                                             \
    "new floating-IP connection whose translated tuple another one holds")      \
  X(gw_binding_gone,                                                            \
    "translated connection whose floating IP or SNAT address the policy removed") \
  X(gw_next_hop_unresolved, "external next hop's MAC unknown: ARP sent")        \
  X(gw_no_headroom, "no mbuf headroom for the external port's VLAN tag")     \
  /* handoff: several workers, packets to their connection's owner */          \
  X(handoff_ring_full, "the owner worker's handoff ring from this one is full")  \
  X(handoff_stale,                                                              \
    "tunnel packet handed over across a policy change (its VTEP index is stale)") \
  X(gw_icmp_untracked,                                                          \
    "external port: ICMP error about no connection the gateway translates")     \
  /* ICMP errors about translated connections (rewrite/icmp_xlate.h) */         \
  X(icmp_xlate_malformed,                                                       \
    "ICMP error from outside, or about a translated connection, whose quoted "  \
    "packet is cut short or unreadable")                                         \
  X(icmp_xlate_bad_checksum,                                                    \
    "ICMP error about a translated connection with a wrong ICMP checksum")

enum class DropReason : uint16_t {
  kNone = 0,
#define WEFT_DROP_ENUM(name, desc) name,
  WEFT_DROP_REASONS(WEFT_DROP_ENUM)
#undef WEFT_DROP_ENUM
      kCount
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonNames = {
    "none",
#define WEFT_DROP_NAME(name, desc) #name,
    WEFT_DROP_REASONS(WEFT_DROP_NAME)
#undef WEFT_DROP_NAME
};

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonDescriptions = {
    "not dropped",
#define WEFT_DROP_DESC(name, desc) desc,
    WEFT_DROP_REASONS(WEFT_DROP_DESC)
#undef WEFT_DROP_DESC
};

constexpr std::string_view drop_reason_name(DropReason r) {
  return kDropReasonNames[static_cast<size_t>(r)];
}

}  // namespace weft::dp
