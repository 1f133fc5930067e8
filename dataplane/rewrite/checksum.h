#pragma once
// Incremental Internet checksum updates (RFC 1624, eqn. 3): when a header
// field changes from `old` to `now`, the checksum over it is patched
// without summing the header again. Fields are taken as they sit in the
// packet (network byte order), which the one's complement sum does not
// care about as long as the checksum is treated alike.
//
//   csum_replace16(ip + 10, old_ttl_proto, new_ttl_proto);   // the checksum's bytes
//   csum_replace32(tcp + 16, old_src, new_src);
//
// Checksums are addressed as bytes: packet headers are packed structs at
// any alignment, so they are read and written with memcpy.
//
// Pure functions; any thread.

#include <rte_ip.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace weft::dp {

// Where the IPv4 fields that rewrites touch sit, from the header's start.
inline constexpr size_t kIpTtl = offsetof(rte_ipv4_hdr, time_to_live);
inline constexpr size_t kIpChecksum = offsetof(rte_ipv4_hdr, hdr_checksum);
inline constexpr size_t kIpSrc = offsetof(rte_ipv4_hdr, src_addr);
inline constexpr size_t kIpDst = offsetof(rte_ipv4_hdr, dst_addr);

// A header field of any alignment, as it sits in the packet (no byte
// swap): what the checksum patches below are fed with.
template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// HC' = ~(~HC + ~m + m'), folded.
inline uint16_t csum_update(uint16_t sum, uint32_t partial) {
  uint32_t s = static_cast<uint16_t>(~sum) + partial;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline void csum_patch(uint8_t* sum_at, uint32_t partial) {
  uint16_t sum;
  std::memcpy(&sum, sum_at, sizeof sum);
  sum = csum_update(sum, partial);
  std::memcpy(sum_at, &sum, sizeof sum);
}

inline void csum_replace16(uint8_t* sum_at, uint16_t old, uint16_t now) {
  csum_patch(sum_at, static_cast<uint16_t>(~old) + uint32_t{now});
}

inline uint32_t csum_partial32(uint32_t old, uint32_t now) {
  return static_cast<uint16_t>(~old) + static_cast<uint16_t>(~(old >> 16)) + (now & 0xffff) + (now >> 16);
}

inline void csum_replace32(uint8_t* sum_at, uint32_t old, uint32_t now) {
  csum_patch(sum_at, csum_partial32(old, now));
}

// Several fields' changes summed first and patched into a checksum once
// (a translation changes up to two addresses and two ports under one
// checksum): one read and one write of the checksum instead of a
// read-modify-write per field, each waiting on the one before. At most 16
// changes: the sum stays below 2^21, which csum_update's two folds take.
class CsumDelta {
 public:
  void replace16(uint16_t old, uint16_t now) { partial_ += static_cast<uint16_t>(~old) + uint32_t{now}; }
  void replace32(uint32_t old, uint32_t now) { partial_ += csum_partial32(old, now); }
  // Patches the checksum at `sum_at`; with no change summed, leaves it alone.
  void apply(uint8_t* sum_at) const {
    if (partial_ != 0) csum_patch(sum_at, partial_);
  }

 private:
  uint32_t partial_ = 0;
};

}  // namespace weft::dp
