#pragma once
// DHCP on the wire (RFC 2131, options RFC 2132): the BOOTP message that
// carries it (RFC 951), the magic cookie that starts the options, and the
// option codes and message types weftd's DHCP server reads or writes.
//
//  0                   1                   2                   3
//  |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//  |                            xid (4)                            |
//  |           secs (2)            |           flags (2)           |
//  |                          ciaddr  (4)                          |
//  |                          yiaddr  (4)                          |
//  |                          siaddr  (4)                          |
//  |                          giaddr  (4)                          |
//  |                          chaddr  (16)                         |
//  |                          sname   (64)                         |
//  |                          file    (128)                        |
//  |                  magic cookie 99.130.83.99 (4)                |
//  |                          options (variable)                   |
//
// Options are type-length-value triples, except Pad (0) and End (255),
// which are one byte. Multi-byte fields are big-endian.
//
// Constants and a packed struct only: any thread.

#include <rte_byteorder.h>
#include <rte_common.h>

#include <cstddef>
#include <cstdint>

namespace weft::dp {

inline constexpr uint16_t kDhcpServerPort = 67;
inline constexpr uint16_t kDhcpClientPort = 68;

// The fixed part of every BOOTP/DHCP message, before the magic cookie.
struct BootpHeader {
  uint8_t op;          // kBootRequest from a client, kBootReply from a server
  uint8_t htype;       // hardware address type: kBootpHtypeEthernet
  uint8_t hlen;        // hardware address length: 6 for Ethernet
  uint8_t hops;        // relay agents count up; 0 from a client
  rte_be32_t xid;      // transaction id, chosen by the client, echoed
  rte_be16_t secs;     // seconds since the client began; 0 from a server
  rte_be16_t flags;    // kBootpFlagBroadcast, the other bits must be zero
  rte_be32_t ciaddr;   // the client's address, when it has one and can answer ARP
  rte_be32_t yiaddr;   // "your" address: what the server gives
  rte_be32_t siaddr;   // next server to bootstrap from (TFTP); 0 here
  rte_be32_t giaddr;   // relay agent address; 0 when not relayed
  uint8_t chaddr[16];  // client hardware address, hlen bytes of it used
  uint8_t sname[64];   // server host name, or options under overload (52)
  uint8_t file[128];   // boot file name, or options under overload (52)
} __rte_packed;
static_assert(sizeof(BootpHeader) == 236);
static_assert(offsetof(BootpHeader, chaddr) == 28);

inline constexpr uint8_t kBootRequest = 1;
inline constexpr uint8_t kBootReply = 2;
inline constexpr uint8_t kBootpHtypeEthernet = 1;
inline constexpr uint16_t kBootpFlagBroadcast = 0x8000;  // host order

// RFC 2131 §3: the options field starts with 99.130.83.99.
inline constexpr uint32_t kDhcpMagicCookie = 0x63825363;                 // host order
inline constexpr uint32_t kDhcpOptionsOffset = sizeof(BootpHeader) + 4;  // 240
// RFC 951's 64-byte vendor field made the BOOTP message 300 bytes; some
// clients still drop a shorter one, so replies are padded up to it (as ISC
// dhcpd and dnsmasq do).
inline constexpr uint32_t kBootpMinLen = 300;

// Option codes (RFC 2132 unless noted).
inline constexpr uint8_t kDhcpOptPad = 0;
inline constexpr uint8_t kDhcpOptSubnetMask = 1;
inline constexpr uint8_t kDhcpOptRouter = 3;
inline constexpr uint8_t kDhcpOptDns = 6;
inline constexpr uint8_t kDhcpOptHostname = 12;
inline constexpr uint8_t kDhcpOptInterfaceMtu = 26;
inline constexpr uint8_t kDhcpOptRequestedIp = 50;
inline constexpr uint8_t kDhcpOptLeaseTime = 51;
inline constexpr uint8_t kDhcpOptOverload = 52;
inline constexpr uint8_t kDhcpOptMessageType = 53;
inline constexpr uint8_t kDhcpOptServerId = 54;
inline constexpr uint8_t kDhcpOptParamRequest = 55;
inline constexpr uint8_t kDhcpOptRenewalTime = 58;    // T1
inline constexpr uint8_t kDhcpOptRebindingTime = 59;  // T2
inline constexpr uint8_t kDhcpOptClientId = 61;
inline constexpr uint8_t kDhcpOptEnd = 255;

// RFC 2132 §9.8: smallest interface MTU the option may carry.
inline constexpr uint16_t kDhcpMinMtu = 68;
// RFC 2131 §3.3: a lease of 0xffffffff seconds never ends.
inline constexpr uint32_t kDhcpInfiniteLease = 0xffffffff;

// Option 53 (RFC 2132 §9.6).
enum class DhcpMessageType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};

}  // namespace weft::dp
