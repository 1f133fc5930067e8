#pragma once
// ICMP errors about a translated connection (NAT, a load balancer's
// backend), translated as RFC 5508 §4.2 and RFC 3022 §4.3 ask: the error
// quotes a packet of the connection as it looked where the error was made,
// so the quote is rewritten to what its sender sees on the other side of
// the translation, and the error's own header with it.
//
//   quoted packet   (qs, qsp) -> (qd, qdp)  becomes  (to.src, to.sport) ->
//                   (to.dst, to.dport): inner IPv4 addresses and its header
//                   checksum; TCP/UDP ports, ICMP echo identifier; the
//                   inner L4 checksum where the quote holds it (UDP's when
//                   not zero, TCP's when the quote reaches byte 18, the
//                   echo's), patched incrementally (RFC 1624): the quote is
//                   cut short, so it cannot be summed again
//   outer header    the destination (the quoted source: the error goes to
//                   whoever sent the quoted packet) becomes to.src; the
//                   source becomes to.dst only when it is the quoted
//                   destination (the peer itself reports): a router on the
//                   path keeps its own address, so traceroute shows it;
//                   the IPv4 checksum patched
//   ICMP checksum   verified first (a corrupt error is never made valid),
//                   then summed again over the whole message, as Linux's
//                   nf_nat_icmp_reply_translation does
//
// Callers have matched the quote to its connection (conn_key.h,
// extract_tuple: a first fragment's IPv4 header and the ports, whole
// within the IP packet); this checks the same bounds again and fails
// rather than read past them.
//
// A pure function over bytes; any thread.

#include <rte_byteorder.h>

#include <cstdint>

namespace weft::dp {

// The quoted packet's tuple after translation, network order; for ICMP
// echo the identifier is both ports (conn_key.h), sport is what is written.
struct QuoteTuple {
  rte_be32_t src, dst;
  rte_be16_t sport, dport;
};

enum class IcmpXlateResult : uint8_t {
  kOk,
  kMalformed,    // not an ICMP error with a quote of IPv4 header and ports
  kBadChecksum,  // the error's ICMP checksum is wrong: left as it was
};

// Translates the ICMP error whose outer IPv4 header starts at `ip`, with
// `len` bytes readable from there (the IP total length is bounded by it).
IcmpXlateResult translate_icmp_error(uint8_t* ip, uint32_t len, const QuoteTuple& to) noexcept;

}  // namespace weft::dp
