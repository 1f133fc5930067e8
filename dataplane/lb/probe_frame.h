#pragma once
// The health checker's TCP segments on the wire: the probe's SYN (written
// by the main lcore into a new mbuf) and the RST that answers a SYN-ACK
// (written by the probe reply stage over the SYN-ACK itself). Both are one
// bare frame: Ethernet, IPv4 (no options, DF, TTL 64), TCP (no options,
// no payload), with both checksums computed in full, so no offload is
// asked of the vNIC.
//
// Pure functions over bytes; any thread.

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::dp {

// A segment's fields. Addresses, ports and numbers in host order; MACs in
// the tables' form (common/net.h).
struct ProbeSegment {
  uint64_t src_mac, dst_mac;
  uint32_t src_ip, dst_ip;
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;  // RTE_TCP_*_FLAG
};

inline constexpr size_t kProbeFrameLen = 14 + 20 + 20;
// The window a probe's SYN offers: small, nothing is ever received.
inline constexpr uint16_t kProbeWindow = 1024;

// Writes the frame into `buf` (kProbeFrameLen + payload_len bytes), with
// `payload` after the TCP header (an HTTP probe's request).
void write_probe_segment(uint8_t* buf, const ProbeSegment& s, const char* payload = nullptr,
                         size_t payload_len = 0) noexcept;

// An HTTP probe's request: a GET of `path` (validated: visible ASCII) from
// `host` (host order), closing the connection after the answer.
std::string http_probe_request(const std::string& path, uint32_t host);

// The status of an HTTP status line ("HTTP/1.x NNN ...") at the start of
// `data`; 0 when it does not start with one.
uint16_t http_status_of(const uint8_t* data, size_t len) noexcept;

}  // namespace weft::dp
