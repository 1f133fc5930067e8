#include "dataplane/trace/trace_packet.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/str_cat.h"
#include "dataplane/pipeline/wire.h"

namespace weft::dp {
namespace {

struct FlagName {
  char letter;
  uint8_t bit;
};
constexpr FlagName kTcpFlags[] = {{'F', RTE_TCP_FIN_FLAG}, {'S', RTE_TCP_SYN_FLAG}, {'R', RTE_TCP_RST_FLAG},
                                  {'P', RTE_TCP_PSH_FLAG}, {'A', RTE_TCP_ACK_FLAG}, {'U', RTE_TCP_URG_FLAG}};

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool number(std::string_view s, T& out, uint64_t max) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  out = static_cast<T>(v);
  return true;
}

// "10.1.1.10:1234" or "10.1.1.10" (then `port` is untouched).
bool endpoint(std::string_view s, bool with_port, uint32_t& ip, uint16_t& port, std::string& error) {
  const size_t colon = s.find(':');
  if (colon != std::string_view::npos && !with_port) {
    error = str_cat({"'", s, "': ICMP has no ports"});
    return false;
  }
  auto addr = parse_ipv4(s.substr(0, colon));
  if (!addr) {
    error = str_cat({"'", s.substr(0, colon), "' is no IPv4 address"});
    return false;
  }
  ip = *addr;
  if (with_port) {
    if (colon == std::string_view::npos || !number(s.substr(colon + 1), port, UINT16_MAX) || port == 0) {
      error = str_cat({"'", s, "': want ADDRESS:PORT, a port 1-65535"});
      return false;
    }
  }
  return true;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

size_t l4_len(const TracePacket& p) {
  switch (p.proto) {
    case IPPROTO_TCP: return sizeof(rte_tcp_hdr);
    case IPPROTO_UDP: return sizeof(rte_udp_hdr);
    default: return sizeof(rte_icmp_hdr);
  }
}

}  // namespace

std::optional<TracePacket> parse_trace_packet(std::string_view text, std::string& error) {
  const std::vector<std::string_view> w = words(text);
  if (w.size() < 4 || w[2] != ">") {
    error = "want 'PROTO SRC[:PORT] > DST[:PORT] [OPTION VALUE]...', e.g. 'tcp 10.1.1.10:1234 > 10.1.2.20:5432'";
    return std::nullopt;
  }
  TracePacket p;
  if (w[0] == "tcp") p.proto = IPPROTO_TCP;
  else if (w[0] == "udp") p.proto = IPPROTO_UDP;
  else if (w[0] == "icmp") p.proto = IPPROTO_ICMP;
  else {
    error = str_cat({"'", w[0], "': the protocol is tcp, udp or icmp"});
    return std::nullopt;
  }
  const bool ports = p.proto != IPPROTO_ICMP;
  if (!endpoint(w[1], ports, p.src, p.sport, error) || !endpoint(w[3], ports, p.dst, p.dport, error))
    return std::nullopt;
  if (w.size() % 2 != 0) {
    error = str_cat({"'", w.back(), "' has no value"});
    return std::nullopt;
  }
  for (size_t i = 4; i + 1 < w.size(); i += 2) {
    const std::string_view key = w[i], value = w[i + 1];
    bool ok = false;
    if (key == "flags" && p.proto == IPPROTO_TCP) {
      p.tcp_flags = 0;
      ok = true;
      for (char c : value) {
        const FlagName* f = std::find_if(std::begin(kTcpFlags), std::end(kTcpFlags),
                                         [c](const FlagName& n) { return n.letter == c; });
        if (f == std::end(kTcpFlags)) ok = false;
        else p.tcp_flags |= f->bit;
      }
    } else if (key == "type" && p.proto == IPPROTO_ICMP) {
      ok = number(value, p.icmp_type, UINT8_MAX);
    } else if (key == "code" && p.proto == IPPROTO_ICMP) {
      ok = number(value, p.icmp_code, UINT8_MAX);
    } else if (key == "id" && p.proto == IPPROTO_ICMP) {
      ok = number(value, p.icmp_id, UINT16_MAX);
    } else if (key == "vlan") {
      uint16_t v = 0;
      ok = number(value, v, 4094) && v != 0;
      p.vlan = v;
    } else if (key == "ttl") {
      ok = number(value, p.ttl, UINT8_MAX);
    } else if (key == "len") {
      ok = number(value, p.payload, 9000);
    } else {
      error = str_cat({"'", key, "': not an option of a ", w[0],
                       " packet (flags for tcp; type, code, id for icmp; vlan, ttl, len)"});
      return std::nullopt;
    }
    if (!ok) {
      error = str_cat({"'", key, " ", value, "': bad value"});
      return std::nullopt;
    }
  }
  return p;
}

std::string format_trace_packet(const TracePacket& p) {
  std::string s;
  if (p.proto == IPPROTO_ICMP) {
    s = "icmp " + format_ipv4(p.src) + " > " + format_ipv4(p.dst) + " type " + std::to_string(p.icmp_type) +
        " code " + std::to_string(p.icmp_code);
  } else {
    s = std::string(p.proto == IPPROTO_TCP ? "tcp " : "udp ") + format_ipv4(p.src) + ":" + std::to_string(p.sport) +
        " > " + format_ipv4(p.dst) + ":" + std::to_string(p.dport);
    if (p.proto == IPPROTO_TCP) {
      s += " flags ";
      for (const FlagName& f : kTcpFlags)
        if (p.tcp_flags & f.bit) s += f.letter;
    }
  }
  if (p.vlan) s += " vlan " + std::to_string(*p.vlan);
  return s;
}

TracePacket reply_packet(const TracePacket& p) {
  TracePacket r = p;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  if (p.proto == IPPROTO_TCP)
    r.tcp_flags = (p.tcp_flags & RTE_TCP_SYN_FLAG) ? RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG : RTE_TCP_ACK_FLAG;
  if (p.proto == IPPROTO_ICMP && p.icmp_type == RTE_IP_ICMP_ECHO_REQUEST) r.icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  return r;
}

std::vector<uint8_t> build_trace_frame(const TracePacket& p, const Mac& src_mac, const Mac& dst_mac) {
  const size_t vlan = p.vlan ? sizeof(rte_vlan_hdr) : 0;
  const size_t l3 = sizeof(rte_ether_hdr) + vlan;
  const size_t l4 = l3 + sizeof(rte_ipv4_hdr);
  std::vector<uint8_t> f(l4 + l4_len(p) + p.payload, 0);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
  std::memcpy(eth->dst_addr.addr_bytes, dst_mac.data(), 6);
  std::memcpy(eth->src_addr.addr_bytes, src_mac.data(), 6);
  if (p.vlan) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* tag = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
    tag->vlan_tci = rte_cpu_to_be_16(*p.vlan);
    tag->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  } else {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  }
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + l3);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(f.size() - l3));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = p.ttl;
  ip->next_proto_id = p.proto;
  ip->src_addr = rte_cpu_to_be_32(p.src);
  ip->dst_addr = rte_cpu_to_be_32(p.dst);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  uint8_t* t = f.data() + l4;
  switch (p.proto) {
    case IPPROTO_TCP: {
      auto* tcp = reinterpret_cast<rte_tcp_hdr*>(t);
      tcp->src_port = rte_cpu_to_be_16(p.sport);
      tcp->dst_port = rte_cpu_to_be_16(p.dport);
      tcp->sent_seq = rte_cpu_to_be_32(1000);
      tcp->recv_ack = rte_cpu_to_be_32((p.tcp_flags & RTE_TCP_ACK_FLAG) ? 2000 : 0);
      tcp->data_off = 5 << 4;
      tcp->tcp_flags = p.tcp_flags;
      tcp->rx_win = rte_cpu_to_be_16(65535);
      tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
      break;
    }
    case IPPROTO_UDP: {
      auto* udp = reinterpret_cast<rte_udp_hdr*>(t);
      udp->src_port = rte_cpu_to_be_16(p.sport);
      udp->dst_port = rte_cpu_to_be_16(p.dport);
      udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(f.size() - l4));
      udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
      break;
    }
    default: {
      auto* icmp = reinterpret_cast<rte_icmp_hdr*>(t);
      icmp->icmp_type = p.icmp_type;
      icmp->icmp_code = p.icmp_code;
      icmp->icmp_ident = rte_cpu_to_be_16(p.icmp_id);
      icmp->icmp_seq_nb = rte_cpu_to_be_16(1);
      icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(t, f.size() - l4));
      break;
    }
  }
  return f;
}

std::vector<uint8_t> build_tunnel_frame(const std::vector<uint8_t>& inner, uint32_t vni, uint32_t from,
                                        uint32_t to, const Mac& to_mac) {
  constexpr size_t kOuter = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + sizeof(rte_vxlan_hdr);
  std::vector<uint8_t> f(kOuter + inner.size(), 0);
  std::memcpy(f.data() + kOuter, inner.data(), inner.size());
  auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
  std::memcpy(eth->dst_addr.addr_bytes, to_mac.data(), 6);
  // The peer's underlay MAC: any unicast address will do, nothing checks it.
  const Mac peer = {0x02, 0x00, static_cast<uint8_t>(from >> 24), static_cast<uint8_t>(from >> 16),
                    static_cast<uint8_t>(from >> 8), static_cast<uint8_t>(from)};
  std::memcpy(eth->src_addr.addr_bytes, peer.data(), 6);
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(f.size() - sizeof(rte_ether_hdr)));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = rte_cpu_to_be_32(from);
  ip->dst_addr = rte_cpu_to_be_32(to);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  put16(reinterpret_cast<uint8_t*>(&udp->src_port), 49152);
  udp->dst_port = rte_cpu_to_be_16(kVxlanPort);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(f.size() - sizeof(rte_ether_hdr) - sizeof(rte_ipv4_hdr)));
  auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);
  vx->vx_flags = rte_cpu_to_be_32(0x08000000);
  vx->vx_vni = rte_cpu_to_be_32(vni << 8);
  return f;
}

}  // namespace weft::dp
