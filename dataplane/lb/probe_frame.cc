#include "dataplane/lb/probe_frame.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

#include "dataplane/tables/hash.h"

namespace weft::dp {

void write_probe_segment(uint8_t* buf, const ProbeSegment& s) noexcept {
  rte_ether_hdr eth{};
  eth.dst_addr = ether_from_u64(s.dst_mac);
  eth.src_addr = ether_from_u64(s.src_mac);
  eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  std::memcpy(buf, &eth, sizeof eth);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + sizeof eth);
  std::memset(ip, 0, sizeof *ip);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr));
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
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

}  // namespace weft::dp
