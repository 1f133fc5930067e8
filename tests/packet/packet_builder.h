#pragma once
// Builds test packets, layer by layer, with every length, next-protocol and
// checksum field filled in from what follows:
//
//   Bytes syn = Frame()
//       .eth(mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02"))
//       .vlan(100)
//       .ipv4(ip4("10.1.1.10"), ip4("10.1.2.20"))
//       .tcp(40000, 80, {.flags = RTE_TCP_SYN_FLAG})
//       .payload(32)
//       .bytes();
//
// A layer after `vxlan(vni)` belongs to the inner frame. Every computed
// field can be overridden through the layer's options (`{.ihl = 4}`,
// `{.length = 7}`) to build malformed packets; the checksums are then
// computed over the malformed headers. `layers()` tells where each layer
// landed, for truncation tests and for poking bytes.
//
// Test code only (allocates, throws on bad address literals). Any thread.

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/net.h"

namespace weft::test {

using Bytes = std::vector<uint8_t>;
using Ipv6Addr = std::array<uint8_t, 16>;

// Address literals; throw std::invalid_argument on a malformed one.
Mac mac(std::string_view text);
uint32_t ip4(std::string_view text);  // host byte order
Ipv6Addr ip6(std::string_view text);

// Fields of a packet a test reads back, big-endian, at byte `at`; bounds
// checked (std::out_of_range).
uint16_t be16_at(const Bytes& b, size_t at);
uint32_t be32_at(const Bytes& b, size_t at);
Mac mac_at(const Bytes& b, size_t at);

enum class Layer : uint8_t {
  kEth,
  kVlan,
  kArp,
  kIpv4,
  kIpv6,
  kIpv6Ext,   // hop-by-hop, routing or destination options
  kIpv6Frag,
  kUdp,
  kTcp,
  kIcmp,      // ICMP, or ICMPv6 inside IPv6
  kVxlan,
  kPayload,
  kPadding,   // Ethernet padding, outside every length field
};
std::string_view layer_name(Layer layer);

struct LayerSpan {
  Layer layer;
  size_t begin;
  size_t end;  // one past the header (for kPayload/kPadding, past the bytes)
};

struct ArpFields {
  uint16_t op = RTE_ARP_OP_REQUEST;
  Mac sha{};
  uint32_t spa = 0;  // host byte order
  Mac tha{};
  uint32_t tpa = 0;
  uint16_t htype = RTE_ARP_HRD_ETHER;  // override these to build bad ARP
  uint16_t ptype = RTE_ETHER_TYPE_IPV4;
  uint8_t hlen = RTE_ETHER_ADDR_LEN;
  uint8_t plen = 4;
};

struct Ipv4Opts {
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t frag_offset = 0;  // in 8-byte units
  Bytes options = {};        // raw option bytes, a multiple of 4
  std::optional<uint8_t> proto = {};
  std::optional<uint8_t> version = {};
  std::optional<uint8_t> ihl = {};
  std::optional<uint16_t> total_length = {};
  std::optional<uint16_t> checksum = {};
};

struct Ipv6Opts {
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
  uint8_t hop_limit = 64;
  std::optional<uint8_t> next_header = {};
  std::optional<uint8_t> version = {};
  std::optional<uint16_t> payload_length = {};
};

struct UdpOpts {
  std::optional<uint16_t> length = {};
  std::optional<uint16_t> checksum = {};
};

struct TcpOpts {
  uint32_t seq = 1;
  uint32_t ack = 0;
  uint8_t flags = RTE_TCP_ACK_FLAG;
  uint16_t window = 65535;
  Bytes options = {};  // raw option bytes, a multiple of 4
  std::optional<uint8_t> data_offset = {};  // in 32-bit words
  std::optional<uint16_t> checksum = {};
};

class Frame {
 public:
  Frame& eth(const Mac& src, const Mac& dst, std::optional<uint16_t> ethertype = {});
  Frame& vlan(uint16_t vid, uint16_t tpid = RTE_ETHER_TYPE_VLAN, uint8_t pcp = 0);
  Frame& arp(const ArpFields& fields);
  Frame& ipv4(uint32_t src, uint32_t dst, const Ipv4Opts& opts = {});
  Frame& ipv6(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Opts& opts = {});
  // Hop-by-hop (0), routing (43) or destination options (60) of `len` bytes
  // (a multiple of 8), filled with padding options / an ignorable route.
  Frame& ipv6_ext(uint8_t type, size_t len = 8);
  // `offset` in 8-byte units; a later fragment names the protocol of the
  // datagram in `next_header`, as no header of it follows.
  Frame& ipv6_frag(uint16_t offset, bool more, uint32_t id = 1,
                   std::optional<uint8_t> next_header = {});
  Frame& udp(uint16_t sport, uint16_t dport, const UdpOpts& opts = {});
  Frame& tcp(uint16_t sport, uint16_t dport, const TcpOpts& opts = {});
  Frame& icmp(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0);
  Frame& vxlan(uint32_t vni, uint8_t flags = 0x08);
  Frame& payload(size_t n);  // a recognisable pattern: byte i is i & 0xff
  Frame& payload(Bytes data);
  Frame& pad_to(size_t frame_len);  // zero bytes up to frame_len, if shorter

  Bytes bytes() const;
  std::vector<LayerSpan> layers() const;
  // The first span of `layer` (the nth one with n > 0); throws if absent.
  LayerSpan span(Layer layer, size_t nth = 0) const;
  // A single-segment mbuf holding bytes(); null when the pool is empty.
  rte_mbuf* mbuf(rte_mempool* pool) const;

 private:
  struct Part {
    Layer layer;
    Bytes hdr = {};
    uint16_t tpid = 0;     // kVlan: the type its predecessor announces
    uint8_t ext_type = 0;  // kIpv6Ext: the type its predecessor announces
    // Overrides of computed fields; empty: computed at build.
    std::optional<uint16_t> next = {};
    std::optional<uint16_t> len = {};
    std::optional<uint16_t> csum = {};
    size_t pad_to = 0;  // kPadding
  };
  Frame& add(Part part);
  void build(Bytes& out, std::vector<LayerSpan>& spans) const;

  std::vector<Part> parts_;
};

// The Internet checksum (RFC 1071) of `data`, folded and complemented,
// starting from the partial sum `sum`.
uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t sum = 0);

// Copies `data` into a new single-segment mbuf; null when the pool is empty
// or the data does not fit one mbuf.
rte_mbuf* to_mbuf(rte_mempool* pool, std::span<const uint8_t> data);
// The bytes of a (possibly chained) mbuf.
Bytes from_mbuf(const rte_mbuf* m);

// Malformation helpers.
inline Bytes truncated(Bytes b, size_t n) {
  b.resize(n < b.size() ? n : b.size());
  return b;
}
void poke8(Bytes& b, size_t offset, uint8_t value);
void poke16(Bytes& b, size_t offset, uint16_t value);  // big-endian

}  // namespace weft::test
