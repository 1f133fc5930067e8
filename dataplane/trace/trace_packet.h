#pragma once
// The packet a trace sends (`weftctl trace`, `weftctl can-reach`), as an
// operator writes it, and the frame a VM (or a peer VTEP) would put on the
// wire for it.
//
//   PROTO SRC[:PORT] > DST[:PORT] [OPTION VALUE]...
//
//   tcp 10.1.1.10:1234 > 10.1.2.20:5432           a SYN
//   tcp 10.1.1.10:1234 > 10.1.2.20:5432 flags A   a bare ACK (S, A, F, R, P, U)
//   udp 10.1.1.10:5353 > 10.1.1.11:53
//   icmp 10.1.1.10 > 10.1.2.20                    an echo request (id 1)
//   icmp 10.1.1.10 > 10.1.2.20 type 3 code 4
//   ... vlan 100                                  with an 802.1Q tag
//   ... ttl 1 / len 1400                          IP TTL, payload bytes
//
// Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"

namespace weft::dp {

struct TracePacket {
  uint8_t proto = 6;       // IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP
  uint32_t src = 0, dst = 0;  // host order
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0x02;  // SYN
  uint8_t icmp_type = 8, icmp_code = 0;
  uint16_t icmp_id = 1;
  std::optional<uint16_t> vlan;
  uint8_t ttl = 64;
  uint16_t payload = 0;
};

// Nullopt, with `error` saying what is wrong, for text that is no packet.
std::optional<TracePacket> parse_trace_packet(std::string_view text, std::string& error);
std::string format_trace_packet(const TracePacket& p);

// The packet the other end sends back on the same connection: addresses
// and ports swapped, a SYN answered by SYN+ACK, an echo request by an echo
// reply.
TracePacket reply_packet(const TracePacket& p);

// The Ethernet frame of `p`, checksums filled in.
std::vector<uint8_t> build_trace_frame(const TracePacket& p, const Mac& src_mac, const Mac& dst_mac);

// `inner` as VXLAN (VNI `vni`) from the peer VTEP `from` to this node's
// VTEP `to`, whose underlay MAC is `to_mac`.
std::vector<uint8_t> build_tunnel_frame(const std::vector<uint8_t>& inner, uint32_t vni, uint32_t from,
                                        uint32_t to, const Mac& to_mac);

}  // namespace weft::dp
