#include "dataplane/lb/probe_frame.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

#include "dataplane/tables/hash.h"

namespace weft::dp {

void write_probe_segment(uint8_t* buf, const ProbeSegment& s, const char* payload, size_t payload_len) noexcept {
  rte_ether_hdr eth{};
  eth.dst_addr = ether_from_u64(s.dst_mac);
  eth.src_addr = ether_from_u64(s.src_mac);
  eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  std::memcpy(buf, &eth, sizeof eth);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + sizeof eth);
  std::memset(ip, 0, sizeof *ip);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr) + payload_len));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = rte_cpu_to_be_32(s.src_ip);
  ip->dst_addr = rte_cpu_to_be_32(s.dst_ip);

  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(buf + sizeof eth + sizeof *ip);
  std::memset(tcp, 0, sizeof *tcp);
  tcp->src_port = rte_cpu_to_be_16(s.sport);
  tcp->dst_port = rte_cpu_to_be_16(s.dport);
  tcp->sent_seq = rte_cpu_to_be_32(s.seq);
  tcp->recv_ack = rte_cpu_to_be_32(s.ack);
  tcp->data_off = (sizeof(rte_tcp_hdr) / 4) << 4;
  tcp->tcp_flags = s.flags;
  tcp->rx_win = rte_cpu_to_be_16((s.flags & RTE_TCP_RST_FLAG) != 0 ? 0 : kProbeWindow);
  if (payload_len != 0) std::memcpy(buf + kProbeFrameLen, payload, payload_len);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

std::string http_probe_request(const std::string& path, uint32_t host) {
  return "GET " + path + " HTTP/1.0\r\nHost: " + std::to_string(host >> 24) + "." +
         std::to_string((host >> 16) & 0xff) + "." + std::to_string((host >> 8) & 0xff) + "." +
         std::to_string(host & 0xff) + "\r\nUser-Agent: weft-health-check\r\nConnection: close\r\n\r\n";
}

uint16_t http_status_of(const uint8_t* data, size_t len) noexcept {
  // "HTTP/1.0 200" or "HTTP/1.1 200": 12 bytes at least.
  static constexpr char kPrefix[] = "HTTP/1.";
  constexpr size_t kPrefixLen = sizeof kPrefix - 1;
  if (len < kPrefixLen + 5 || std::memcmp(data, kPrefix, kPrefixLen) != 0) return 0;
  const uint8_t* p = data + kPrefixLen;
  if (p[0] < '0' || p[0] > '9' || p[1] != ' ') return 0;
  uint16_t status = 0;
  for (int i = 2; i < 5; ++i) {
    if (p[i] < '0' || p[i] > '9') return 0;
    status = static_cast<uint16_t>(status * 10 + (p[i] - '0'));
  }
  return status >= 100 && status <= 599 ? status : 0;
}

}  // namespace weft::dp
