#include "tests/packet/packet_builder.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace weft::test {

namespace {

constexpr uint8_t kProtoNoNext = 59;   // IPv6 "No Next Header"
constexpr uint8_t kProtoTesting = 253;  // RFC 3692: for experimentation and testing

}  // namespace

uint16_t be16_at(const Bytes& b, size_t at) { return static_cast<uint16_t>(b.at(at) << 8 | b.at(at + 1)); }
uint32_t be32_at(const Bytes& b, size_t at) { return uint32_t{be16_at(b, at)} << 16 | be16_at(b, at + 2); }
Mac mac_at(const Bytes& b, size_t at) {
  Mac m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = b.at(at + i);
  return m;
}

namespace {

void put16(Bytes& b, size_t off, uint16_t v) {
  b.at(off) = static_cast<uint8_t>(v >> 8);
  b.at(off + 1) = static_cast<uint8_t>(v);
}
void append(Bytes& b, std::span<const uint8_t> more) { b.insert(b.end(), more.begin(), more.end()); }
void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void append32(Bytes& b, uint32_t v) {
  append16(b, static_cast<uint16_t>(v >> 16));
  append16(b, static_cast<uint16_t>(v));
}

// Unfolded one's-complement sum of big-endian 16-bit words.
uint64_t sum_words(std::span<const uint8_t> d, uint64_t sum) {
  size_t i = 0;
  for (; i + 1 < d.size(); i += 2) sum += (uint32_t{d[i]} << 8) | d[i + 1];
  if (i < d.size()) sum += uint32_t{d[i]} << 8;
  return sum;
}

uint16_t fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool is_ip(Layer l) { return l == Layer::kIpv4 || l == Layer::kIpv6; }

// The protocol number a layer is announced by in the IP (or extension)
// header before it; empty for layers IP does not name.
std::optional<uint8_t> ip_proto_of(const auto& part, bool in_ipv6) {
  switch (part.layer) {
    case Layer::kIpv6Ext: return part.ext_type;
    case Layer::kIpv6Frag: return IPPROTO_FRAGMENT;
    case Layer::kUdp: return IPPROTO_UDP;
    case Layer::kTcp: return IPPROTO_TCP;
    case Layer::kIcmp: return static_cast<uint8_t>(in_ipv6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
    case Layer::kIpv4: return IPPROTO_IPIP;
    case Layer::kIpv6: return IPPROTO_IPV6;
    default: return std::nullopt;
  }
}

std::optional<uint16_t> ethertype_of(const auto& part) {
  switch (part.layer) {
    case Layer::kVlan: return part.tpid;
    case Layer::kIpv4: return RTE_ETHER_TYPE_IPV4;
    case Layer::kIpv6: return RTE_ETHER_TYPE_IPV6;
    case Layer::kArp: return RTE_ETHER_TYPE_ARP;
    default: return std::nullopt;
  }
}

}  // namespace

Mac mac(std::string_view text) {
  auto m = parse_mac(text);
  if (!m) throw std::invalid_argument("bad MAC literal: " + std::string(text));
  return *m;
}

uint32_t ip4(std::string_view text) {
  auto a = parse_ipv4(text);
  if (!a) throw std::invalid_argument("bad IPv4 literal: " + std::string(text));
  return *a;
}

Ipv6Addr ip6(std::string_view text) {
  Ipv6Addr a{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), a.data()) != 1)
    throw std::invalid_argument("bad IPv6 literal: " + std::string(text));
  return a;
}

std::string_view layer_name(Layer layer) {
  switch (layer) {
    case Layer::kEth: return "eth";
    case Layer::kVlan: return "vlan";
    case Layer::kArp: return "arp";
    case Layer::kIpv4: return "ipv4";
    case Layer::kIpv6: return "ipv6";
    case Layer::kIpv6Ext: return "ipv6-ext";
    case Layer::kIpv6Frag: return "ipv6-frag";
    case Layer::kUdp: return "udp";
    case Layer::kTcp: return "tcp";
    case Layer::kIcmp: return "icmp";
    case Layer::kVxlan: return "vxlan";
    case Layer::kPayload: return "payload";
    case Layer::kPadding: return "padding";
  }
  return "?";
}

Frame& Frame::add(Part part) {
  if (!parts_.empty() && parts_.back().layer == Layer::kPadding)
    throw std::logic_error("Frame: nothing may follow pad_to()");
  parts_.push_back(std::move(part));
  return *this;
}

Frame& Frame::eth(const Mac& src, const Mac& dst, std::optional<uint16_t> ethertype) {
  Part p{.layer = Layer::kEth};
  append(p.hdr, dst);
  append(p.hdr, src);
  append16(p.hdr, ethertype.value_or(0));
  p.next = ethertype;
  return add(std::move(p));
}

Frame& Frame::vlan(uint16_t vid, uint16_t tpid, uint8_t pcp) {
  Part p{.layer = Layer::kVlan, .tpid = tpid};
  append16(p.hdr, static_cast<uint16_t>((pcp << 13) | (vid & 0x0fff)));
  append16(p.hdr, 0);
  return add(std::move(p));
}

Frame& Frame::arp(const ArpFields& a) {
  Part p{.layer = Layer::kArp};
  append16(p.hdr, a.htype);
  append16(p.hdr, a.ptype);
  p.hdr.push_back(a.hlen);
  p.hdr.push_back(a.plen);
  append16(p.hdr, a.op);
  append(p.hdr, a.sha);
  append32(p.hdr, a.spa);
  append(p.hdr, a.tha);
  append32(p.hdr, a.tpa);
  return add(std::move(p));
}

Frame& Frame::ipv4(uint32_t src, uint32_t dst, const Ipv4Opts& o) {
  if (o.options.size() % 4 != 0) throw std::logic_error("Frame: IPv4 options must be whole words");
  Part p{.layer = Layer::kIpv4};
  const size_t hl = 20 + o.options.size();
  p.hdr.push_back(static_cast<uint8_t>((o.version.value_or(4) << 4) | o.ihl.value_or(hl / 4)));
  p.hdr.push_back(o.tos);
  append16(p.hdr, 0);  // total length
  append16(p.hdr, o.id);
  append16(p.hdr, static_cast<uint16_t>((o.dont_fragment ? 0x4000 : 0) |
                                        (o.more_fragments ? 0x2000 : 0) | (o.frag_offset & 0x1fff)));
  p.hdr.push_back(o.ttl);
  p.hdr.push_back(0);  // protocol
  append16(p.hdr, 0);  // checksum
  append32(p.hdr, src);
  append32(p.hdr, dst);
  append(p.hdr, o.options);
  p.next = o.proto;
  p.len = o.total_length;
  p.csum = o.checksum;
  return add(std::move(p));
}

Frame& Frame::ipv6(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Opts& o) {
  Part p{.layer = Layer::kIpv6};
  append32(p.hdr, (uint32_t{o.version.value_or(6)} << 28) | (uint32_t{o.traffic_class} << 20) |
                      (o.flow_label & 0xfffff));
  append16(p.hdr, 0);  // payload length
  p.hdr.push_back(0);  // next header
  p.hdr.push_back(o.hop_limit);
  append(p.hdr, src);
  append(p.hdr, dst);
  p.next = o.next_header;
  p.len = o.payload_length;
  return add(std::move(p));
}

Frame& Frame::ipv6_ext(uint8_t type, size_t len) {
  if (len < 8 || len % 8 != 0 || len > 2048) throw std::logic_error("Frame: bad extension length");
  Part p{.layer = Layer::kIpv6Ext, .hdr = Bytes(len, 0), .ext_type = type};
  p.hdr[1] = static_cast<uint8_t>(len / 8 - 1);
  if (type == IPPROTO_ROUTING) {
    // Routing type 253 (RFC 4727, experimental) with no segments left:
    // every node skips it (RFC 8200 §4.4).
    p.hdr[2] = 253;
  } else {
    // One PadN option over the rest (RFC 8200 §4.2).
    p.hdr[2] = 1;
    p.hdr[3] = static_cast<uint8_t>(len - 4);
  }
  return add(std::move(p));
}

Frame& Frame::ipv6_frag(uint16_t offset, bool more, uint32_t id,
                        std::optional<uint8_t> next_header) {
  Part p{.layer = Layer::kIpv6Frag, .next = next_header};
  p.hdr = {0, 0};
  append16(p.hdr, static_cast<uint16_t>((offset << 3) | (more ? 1 : 0)));
  append32(p.hdr, id);
  return add(std::move(p));
}

Frame& Frame::udp(uint16_t sport, uint16_t dport, const UdpOpts& o) {
  Part p{.layer = Layer::kUdp};
  append16(p.hdr, sport);
  append16(p.hdr, dport);
  append16(p.hdr, 0);
  append16(p.hdr, 0);
  p.len = o.length;
  p.csum = o.checksum;
  return add(std::move(p));
}

Frame& Frame::tcp(uint16_t sport, uint16_t dport, const TcpOpts& o) {
  if (o.options.size() % 4 != 0) throw std::logic_error("Frame: TCP options must be whole words");
  Part p{.layer = Layer::kTcp};
  append16(p.hdr, sport);
  append16(p.hdr, dport);
  append32(p.hdr, o.seq);
  append32(p.hdr, o.ack);
  p.hdr.push_back(static_cast<uint8_t>(o.data_offset.value_or((20 + o.options.size()) / 4) << 4));
  p.hdr.push_back(o.flags);
  append16(p.hdr, o.window);
  append16(p.hdr, 0);  // checksum
  append16(p.hdr, 0);  // urgent pointer
  append(p.hdr, o.options);
  p.csum = o.checksum;
  return add(std::move(p));
}

Frame& Frame::icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq) {
  Part p{.layer = Layer::kIcmp};
  p.hdr = {type, code, 0, 0};
  append16(p.hdr, id);
  append16(p.hdr, seq);
  return add(std::move(p));
}

Frame& Frame::vxlan(uint32_t vni, uint8_t flags) {
  Part p{.layer = Layer::kVxlan};
  p.hdr = {flags, 0, 0, 0};
  append32(p.hdr, vni << 8);
  return add(std::move(p));
}

Frame& Frame::payload(size_t n) {
  Part p{.layer = Layer::kPayload};
  p.hdr.resize(n);
  for (size_t i = 0; i < n; ++i) p.hdr[i] = static_cast<uint8_t>(i);
  return add(std::move(p));
}

Frame& Frame::payload(Bytes data) { return add(Part{.layer = Layer::kPayload, .hdr = std::move(data)}); }

Frame& Frame::pad_to(size_t frame_len) {
  return add(Part{.layer = Layer::kPadding, .pad_to = frame_len});
}

void Frame::build(Bytes& out, std::vector<LayerSpan>& spans) const {
  out.clear();
  spans.clear();
  for (const Part& p : parts_) {
    const size_t begin = out.size();
    if (p.layer == Layer::kPadding) {
      if (out.size() < p.pad_to) out.resize(p.pad_to, 0);
    } else {
      append(out, p.hdr);
    }
    spans.push_back({p.layer, begin, out.size()});
  }
  // Every length field covers up to the end of the innermost content:
  // padding is outside all of them.
  const size_t content_end =
      !parts_.empty() && parts_.back().layer == Layer::kPadding ? spans.back().begin : out.size();

  // Next-protocol and length fields, outermost first.
  bool in_ipv6 = false;
  for (size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    const size_t at = spans[i].begin;
    const Part* next = i + 1 < parts_.size() ? &parts_[i + 1] : nullptr;
    const bool next_in_ipv6 = p.layer == Layer::kIpv6 || (in_ipv6 && !is_ip(p.layer));
    switch (p.layer) {
      case Layer::kEth:
      case Layer::kVlan: {
        uint16_t type = 0;
        if (p.next) {
          type = *p.next;
        } else if (next) {
          type = ethertype_of(*next).value_or(0);
        }
        put16(out, at + (p.layer == Layer::kEth ? 12 : 2), type);
        break;
      }
      case Layer::kIpv4:
      case Layer::kIpv6:
      case Layer::kIpv6Ext:
      case Layer::kIpv6Frag: {
        uint8_t proto = p.layer == Layer::kIpv4 ? kProtoTesting : kProtoNoNext;
        if (p.next) {
          proto = static_cast<uint8_t>(*p.next);
        } else if (next) {
          proto = ip_proto_of(*next, next_in_ipv6).value_or(proto);
        }
        const size_t field = p.layer == Layer::kIpv4 ? 9 : p.layer == Layer::kIpv6 ? 6 : 0;
        out[at + field] = proto;
        if (p.layer == Layer::kIpv4)
          put16(out, at + 2, p.len.value_or(static_cast<uint16_t>(content_end - at)));
        if (p.layer == Layer::kIpv6)
          put16(out, at + 4, p.len.value_or(static_cast<uint16_t>(content_end - at - 40)));
        break;
      }
      case Layer::kUdp:
        put16(out, at + 4, p.len.value_or(static_cast<uint16_t>(content_end - at)));
        break;
      default:
        break;
    }
    if (is_ip(p.layer)) in_ipv6 = p.layer == Layer::kIpv6;
  }

  // Checksums, innermost first: an outer UDP checksum covers inner headers.
  for (size_t i = parts_.size(); i-- > 0;) {
    const Part& p = parts_[i];
    const size_t at = spans[i].begin;
    if (p.layer == Layer::kIpv4) {
      put16(out, at + 10, 0);
      const std::span<const uint8_t> hdr(out.data() + at, p.hdr.size());
      put16(out, at + 10, p.csum.value_or(inet_checksum(hdr)));
      continue;
    }
    if (p.layer != Layer::kUdp && p.layer != Layer::kTcp && p.layer != Layer::kIcmp) continue;
    size_t ip = i;
    while (ip > 0 && !is_ip(parts_[ip].layer)) --ip;
    const bool v6 = parts_[ip].layer == Layer::kIpv6;
    const size_t field = p.layer == Layer::kUdp ? 6 : p.layer == Layer::kTcp ? 16 : 2;
    put16(out, at + field, 0);
    const std::span<const uint8_t> l4(out.data() + at, content_end - at);
    uint64_t pseudo = 0;
    if (p.layer != Layer::kIcmp || v6) {
      const size_t ip_at = spans[ip].begin;
      const uint8_t proto = *ip_proto_of(p, v6);
      pseudo = v6 ? sum_words({out.data() + ip_at + 8, 32}, 0)
                  : sum_words({out.data() + ip_at + 12, 8}, 0);
      pseudo += proto + l4.size();
    }
    uint16_t csum = inet_checksum(l4, static_cast<uint32_t>(pseudo));
    if (p.layer == Layer::kUdp && csum == 0) csum = 0xffff;  // 0 means "none" in UDP
    put16(out, at + field, p.csum.value_or(csum));
  }
}

Bytes Frame::bytes() const {
  Bytes out;
  std::vector<LayerSpan> spans;
  build(out, spans);
  return out;
}

std::vector<LayerSpan> Frame::layers() const {
  Bytes out;
  std::vector<LayerSpan> spans;
  build(out, spans);
  return spans;
}

LayerSpan Frame::span(Layer layer, size_t nth) const {
  for (const LayerSpan& s : layers())
    if (s.layer == layer && nth-- == 0) return s;
  throw std::logic_error("Frame: no such layer: " + std::string(layer_name(layer)));
}

rte_mbuf* Frame::mbuf(rte_mempool* pool) const { return to_mbuf(pool, bytes()); }

uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t sum) {
  return fold(sum_words(data, sum));
}

rte_mbuf* to_mbuf(rte_mempool* pool, std::span<const uint8_t> data) {
  if (data.size() > UINT16_MAX) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* dst = rte_pktmbuf_append(m, static_cast<uint16_t>(data.size()));
  if (dst == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (!data.empty()) std::memcpy(dst, data.data(), data.size());
  return m;
}

Bytes from_mbuf(const rte_mbuf* m) {
  Bytes out(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(out.size()), out.data());
  if (p != out.data()) std::memcpy(out.data(), p, out.size());
  return out;
}

void poke8(Bytes& b, size_t offset, uint8_t value) { b.at(offset) = value; }
void poke16(Bytes& b, size_t offset, uint16_t value) { put16(b, offset, value); }

}  // namespace weft::test
