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
  X(pipeline_overflow, "more packets than a stage's input can hold")

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
