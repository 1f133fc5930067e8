#pragma once
// The DHCP server weftd runs in the worker, for its own ports. A port's
// address is policy, so there is no pool and no lease database: every
// answer is a function of the client's packet and the port's DhcpLease,
// which the node compiles from NodeTables' Port.dhcp (DhcpOptions) when it
// builds a snapshot. Nothing is punted to another thread (OVN's pinctrl
// stalls, and its unlimited punt was CVE-2023-3153).
//
//   DhcpLease lease = ...;                       // per port, in the snapshot
//   uint8_t reply[kDhcpReplyMaxLen];
//   uint32_t reply_len = 0;
//   DhcpVerdict v = dhcp_answer(data, len, md->outer, lease, router_mac,
//                               reply, sizeof reply, reply_len);
//   counters[static_cast<size_t>(v)].inc();     // one per verdict (kDhcpVerdictNames)
//   if (dhcp_replied(v)) ... send reply[0, reply_len) out the port it came in on
//   // in every case the client's packet stops here: answered, consumed or refused
//
// What the caller has done before: parse_packet() accepted the frame and
// `f` is its (outer) layers; it is an untagged IPv4 UDP datagram from a
// vNIC to port 67; port security has checked the source MAC. The port's
// subnet has DHCP on (Port.dhcp set) — else the datagram is not ours and
// is forwarded or dropped as any other.
//
// What it answers (RFC 2131 §4.3, the server's part):
//   DISCOVER  -> OFFER of the port's address.
//   REQUEST   -> ACK when the address asked for (option 50, else ciaddr) is
//                the port's and the server identifier (option 54), if any,
//                is ours (the gateway); NAK when it asks for another address,
//                in any state: SELECTING and INIT-REBOOT as the RFC says, and
//                RENEWING/REBINDING too, so a VM whose address the policy
//                changed learns the new one now, not when its lease ends.
//                A REQUEST naming another server is that server's business:
//                no answer (kForOtherServer).
//   INFORM    -> ACK with yiaddr 0 and no lease times (§3.4).
//   RELEASE, DECLINE -> no answer; counted. The address stays the port's.
// Every OFFER and ACK carries: 53 message type, 54 server id, 51 lease time,
// 58 T1 (1/2 of it), 59 T2 (7/8), 1 subnet mask, 3 router, 6 DNS (when any),
// 26 interface MTU (when set), 12 host name (when set), End; padded to the
// 300-byte BOOTP minimum. INFORM's ACK leaves out 51, 58 and 59. NAK carries
// 53 and 54. The parameter request list (55) is not read: replies always
// carry the whole set, which is small and which clients filter.
//
// Where the reply goes (§4.1, giaddr being zero): NAK to broadcast; else
// to ciaddr when the client set it; else to broadcast when the client set
// the broadcast flag (or gets no yiaddr: an INFORM without ciaddr); else
// unicast to yiaddr at chaddr. Broadcast is 255.255.255.255 at
// ff:ff:ff:ff:ff:ff. Source: the gateway's address at `router_mac`, UDP
// 67 -> 68, TTL 64, both checksums computed.
//
// What it refuses (each a DhcpVerdict, so the caller counts it as a named
// drop): not UDP 68 -> 67 over unfragmented IPv4, a UDP length past the
// data, a message shorter than the fixed header and cookie, not a
// BOOTREQUEST, hardware not Ethernet/6, relayed (giaddr set: a VM relaying
// for others is not a client of ours), chaddr not the port's MAC, a missing
// magic cookie, an option whose length runs past the message (or a fixed-
// size option of the wrong size), no message type, a type no client sends,
// a REQUEST that names no address. Every length from the wire is checked
// before the bytes it covers are read; bytes past `len` are never read.
// Options are read from the options field only: overload (52) is ignored,
// sname and file are never options to us. The UDP checksum is not verified
// (see parse.h: NICs do; a VM's virtio often leaves it to us unfilled).
//
// Pure function over bytes: no allocation, no EAL, noexcept; any thread.

#include <rte_ether.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/dhcp/dhcp_wire.h"
#include "dataplane/pipeline/meta.h"

namespace weft::dp {

// Most DNS servers a lease carries (option 6); the rest are left out.
inline constexpr uint32_t kDhcpMaxDns = 4;
// Longest host name (option 12): one DNS label, as policy port names are.
inline constexpr uint32_t kDhcpMaxHostname = 63;

// What the node compiled for one port (common/proto/tables.proto,
// DhcpOptions). Addresses in host byte order.
struct DhcpLease {
  rte_ether_addr client_mac{};  // the port's MAC: chaddr must be it
  uint32_t ip = 0;              // the port's address: yiaddr
  uint8_t prefix_len = 0;       // its subnet's: option 1
  uint16_t mtu = 0;             // the network's: option 26; below 68 left out
  uint32_t router = 0;          // the subnet's gateway: option 3, server id (54), source
  uint32_t lease_seconds = 0;   // option 51; T1 = 1/2, T2 = 7/8 of it
  std::array<uint32_t, kDhcpMaxDns> dns{};  // option 6, the first dns_count of them
  uint8_t dns_count = 0;
  uint8_t hostname_len = 0;  // 0: no option 12
  std::array<char, kDhcpMaxHostname> hostname{};
};

// Largest reply frame: Ethernet, IPv4, UDP, BOOTP and cookie, every option
// at its longest. An `out` buffer of this size always fits.
inline constexpr uint32_t kDhcpMaxOptionsLen =
    3 + 6 + 3 * 6 + 6 + 6 + (2 + 4 * kDhcpMaxDns) + 4 + (2 + kDhcpMaxHostname) + 1;
inline constexpr uint32_t kDhcpReplyMaxLen =
    RTE_ETHER_HDR_LEN + 20 + 8 + kDhcpOptionsOffset + kDhcpMaxOptionsLen;

#define WEFT_DHCP_VERDICTS(X)                                                    \
  /* answered: `out` holds the reply */                                          \
  X(offer, "DISCOVER answered with an OFFER")                                    \
  X(ack, "REQUEST answered with an ACK")                                         \
  X(nak, "REQUEST for another address answered with a NAK")                      \
  X(inform_ack, "INFORM answered with an ACK")                                   \
  /* consumed without an answer: the protocol wants none */                      \
  X(released, "RELEASE: the client gives its address back")                      \
  X(declined, "DECLINE: the client found its address in use")                    \
  X(for_other_server, "REQUEST naming another server's identifier")              \
  /* refused: malformed, or not for us */                                        \
  X(not_dhcp, "not an unfragmented IPv4 UDP datagram from port 68 to 67")        \
  X(truncated, "UDP length past the data, or shorter than BOOTP and the cookie") \
  X(not_boot_request, "BOOTP op is not BOOTREQUEST")                             \
  X(bad_hardware, "hardware type not Ethernet or length not 6")                  \
  X(relayed, "giaddr set: relayed messages are not served")                      \
  X(foreign_client_mac, "chaddr is not the port's MAC")                          \
  X(no_magic_cookie, "options do not start with the DHCP magic cookie")          \
  X(bad_options, "an option's length runs past the message, or is wrong for it") \
  X(no_message_type, "no DHCP message type option")                              \
  X(unknown_message_type, "a message type no client sends to a server")          \
  X(request_without_address, "REQUEST with neither option 50 nor ciaddr")        \
  X(bad_lease, "the port's lease has no address or no gateway")                  \
  X(no_room, "the output buffer is smaller than the reply")

enum class DhcpVerdict : uint8_t {
#define WEFT_DHCP_VERDICT_ENUM(name, desc) name,
  WEFT_DHCP_VERDICTS(WEFT_DHCP_VERDICT_ENUM)
#undef WEFT_DHCP_VERDICT_ENUM
      kCount
};

inline constexpr size_t kDhcpVerdictCount = static_cast<size_t>(DhcpVerdict::kCount);

// Stable names ("offer", "foreign_client_mac", ...) for counters and tests.
inline constexpr std::array<std::string_view, kDhcpVerdictCount> kDhcpVerdictNames = {
#define WEFT_DHCP_VERDICT_NAME(name, desc) #name,
    WEFT_DHCP_VERDICTS(WEFT_DHCP_VERDICT_NAME)
#undef WEFT_DHCP_VERDICT_NAME
};
inline constexpr std::array<std::string_view, kDhcpVerdictCount> kDhcpVerdictDescriptions = {
#define WEFT_DHCP_VERDICT_DESC(name, desc) desc,
    WEFT_DHCP_VERDICTS(WEFT_DHCP_VERDICT_DESC)
#undef WEFT_DHCP_VERDICT_DESC
};

constexpr std::string_view dhcp_verdict_name(DhcpVerdict v) {
  return kDhcpVerdictNames[static_cast<size_t>(v)];
}

// True when `out` holds a reply to send.
constexpr bool dhcp_replied(DhcpVerdict v) {
  return v == DhcpVerdict::offer || v == DhcpVerdict::ack || v == DhcpVerdict::nak ||
         v == DhcpVerdict::inform_ack;
}
// True when the packet was refused (a drop to count under its verdict's
// name); false when it was answered, or consumed as the protocol wants.
constexpr bool dhcp_refused(DhcpVerdict v) {
  return static_cast<uint8_t>(v) >= static_cast<uint8_t>(DhcpVerdict::not_dhcp);
}

// Answers the client's frame data[0, len), whose layers the parser found
// (`f`), for the port whose lease is `lease`; the reply comes from
// `router_mac`. On a reply, writes its frame to out[0, out_len) and returns
// offer/ack/nak/inform_ack; otherwise out_len is 0 and `out` untouched.
// `out` must not overlap `data`; out_cap >= kDhcpReplyMaxLen always fits.
DhcpVerdict dhcp_answer(const uint8_t* data, uint32_t len, const FrameLayers& f,
                        const DhcpLease& lease, const rte_ether_addr& router_mac, uint8_t* out,
                        uint32_t out_cap, uint32_t& out_len) noexcept;

}  // namespace weft::dp
