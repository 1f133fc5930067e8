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
  /* parse */                                                                   \
  X(truncated_eth, "frame shorter than an Ethernet header")                     \
  X(truncated_vlan, "frame ends inside an 802.1Q tag")                          \
  X(too_many_vlans, "more than two VLAN tags")                                  \
  X(truncated_arp, "frame ends inside the ARP header")                          \
  X(bad_arp, "ARP that is not Ethernet/IPv4")                                   \
  X(truncated_ipv4, "frame ends inside the IPv4 header")                        \
  X(bad_ipv4_version, "IPv4 ethertype but version is not 4")                    \
  X(bad_ipv4_ihl, "IPv4 header length below 20 bytes or past the frame")       \
  X(bad_ipv4_total_length, "IPv4 total length inconsistent with the frame")     \
  X(truncated_ipv6, "frame ends inside the IPv6 header")                        \
  X(bad_ipv6_version, "IPv6 ethertype but version is not 6")                    \
  X(bad_ipv6_payload_length, "IPv6 payload length past the frame")              \
  X(bad_ipv6_ext_header, "IPv6 extension header chain malformed or too long")   \
  X(truncated_tcp, "frame ends inside the TCP header")                          \
  X(bad_tcp_offset, "TCP data offset below 5 words or past the packet")         \
  X(truncated_udp, "frame ends inside the UDP header")                          \
  X(bad_udp_length, "UDP length inconsistent with the IP payload")              \
  X(truncated_icmp, "frame ends inside the ICMP header")                        \
  X(truncated_vxlan, "frame ends inside the VXLAN header")                      \
  X(bad_vxlan_flags, "VXLAN header without the I flag or with reserved bits")   \
  X(unsupported_ethertype, "ethertype weftd does not forward")                  \
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
