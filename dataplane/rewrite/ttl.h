#pragma once
// The routed path's TTL: decremented once per router hop, with the header
// checksum updated incrementally (RFC 1624) instead of summed again over
// the whole header (options included).
//
//   if (!ipv4_decrement_ttl(ip)) -> time exceeded (icmp_error.h), not forwarded
//
// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), is the form that stays right at
// the one's complement corner: it never yields 0xFFFF (-0) where a full
// recomputation would give 0x0000, which RFC 1141's HC' = HC + m - m' did.
// The TTL shares its 16-bit word with the protocol byte, so m and m' are
// that word before and after.
//
// Pure inline functions over a header the parser validated: any thread.

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstdint>

namespace weft::dp {

// The Internet checksum `csum` (as stored, network byte order) of data in
// which one 16-bit word changed from `old_word` to `new_word` (both network
// byte order): RFC 1624 eqn. 3. For any header field; NAT wants it too.
inline rte_be16_t inet_csum_replace16(rte_be16_t csum, rte_be16_t old_word,
                                      rte_be16_t new_word) noexcept {
  // One's complement sums are byte-order independent (RFC 1071 §2(B)), so
  // the words are summed as stored.
  uint32_t sum = static_cast<uint16_t>(~csum);
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<rte_be16_t>(~sum);
}

// A router forwards only a packet whose TTL is above 1 (RFC 1812 §5.3.1:
// one it would have to decrement to 0 is discarded with time exceeded).
inline bool ipv4_ttl_expires(const rte_ipv4_hdr* ip) noexcept {
  return ip->time_to_live <= 1;
}

// Decrements the TTL of `ip` and updates its header checksum. Returns
// false and leaves the header untouched when the TTL expires: the caller
// drops the packet and may send time exceeded about it.
inline bool ipv4_decrement_ttl(rte_ipv4_hdr* ip) noexcept {
  if (ipv4_ttl_expires(ip)) return false;
  // The word at offset 8: TTL (high byte), protocol (low byte).
  const uint16_t old_word = static_cast<uint16_t>(ip->time_to_live << 8 | ip->next_proto_id);
  ip->time_to_live = static_cast<uint8_t>(ip->time_to_live - 1);
  const uint16_t new_word = static_cast<uint16_t>(old_word - 0x0100);
  ip->hdr_checksum =
      inet_csum_replace16(ip->hdr_checksum, rte_cpu_to_be_16(old_word), rte_cpu_to_be_16(new_word));
  return true;
}

}  // namespace weft::dp
