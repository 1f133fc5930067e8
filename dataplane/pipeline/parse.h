#pragma once
// The parse stage: the first stage every received packet meets. It finds the
// layers of the frame (Ethernet, up to two VLAN tags, ARP, IPv4, IPv6 with
// its extension headers, UDP, TCP, ICMP/ICMPv6, and a VXLAN payload frame),
// validates every length field against the others and against the data, and
// records offsets, flags and a symmetric flow hash in PktMeta. A malformed
// packet is dropped under a named reason (drop_reasons.h); no byte past the
// data is ever read.
//
// `parse_packet` is the whole parser as a pure function over bytes: no EAL,
// no allocation, so the fuzzer and the micro-benchmark call it directly.
// `ParseStage` runs it over a burst of mbufs.
//
// Length rules (the reason names follow them):
//  - truncated_X: the data, or the IP packet as its length field declares
//    it, ends inside header X. Trailing bytes after the IP packet (Ethernet
//    padding to 60 bytes) are legal and ignored.
//  - bad_X: a length or version field of X is invalid in itself, or claims
//    more than the enclosing IP packet holds.
//  - A layer's own checks come before the enclosing IP packet's "total
//    length past the frame" check, so a frame cut short reports the header
//    it was cut in (a VXLAN frame cut inside its inner TCP header counts
//    truncated_tcp); one cut in a payload reports the IP length.
//  - ICMP and ICMPv6 need 8 bytes: every message type either defines
//    (RFC 792, RFC 4443 §2.1) has a 4-byte body word after type, code and
//    checksum, and the echo identifier there is what conntrack keys on.
//  - A UDP length below the IP payload is accepted (the rest is ignored, as
//    Linux does); above it is bad_udp_length. Not checked on fragments,
//    where it describes the whole datagram.
//  - Checksums are not verified here: NICs do, and a forwarding switch
//    passes end-to-end checksums through untouched.
//
// Fragments: a first fragment has its L4 header parsed (and must hold it
// whole, RFC 1858); a later one has none (l4 = 0, kFlagLaterFragment).
// Fragments are never VXLAN-decapsulated (no reassembly). The flow hash of
// every fragment, first or later, leaves the ports out so that all fragments
// of a datagram hash alike.
//
// VXLAN: on ports where it is enabled, an unfragmented UDP datagram to port
// 4789 is VXLAN. Its flags byte must be exactly the I flag (0x08): a G (GBP)
// or P (GPE) bit means a payload we would misread, so it is bad_vxlan_flags.
// The 24- and 8-bit reserved fields are ignored on receipt, as RFC 7348 §5
// says. The inner frame is parsed like any frame, one level deep.
//
// Flow hash: CRC32-C over the (inner, for VXLAN) addresses, ports and
// protocol, with the two (address, port) endpoints put in a fixed order
// first, so A->B and B->A hash alike; the VNI is left out so a flow hashes
// the same on its VM side and on its tunnel side. Frames without IP hash
// their MAC addresses and ethertype the same way.

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "dataplane/pipeline/drop_reasons.h"
#include "dataplane/pipeline/meta.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/stats/counters.h"

namespace weft::dp {

// Most VLAN tags a frame may carry (802.1ad S-tag + 802.1Q C-tag).
inline constexpr uint32_t kMaxVlanTags = 2;
// Longest IPv6 extension header chain walked. RFC 8200 §4.1 orders at most
// hop-by-hop, destination options, routing, fragment, AH, ESP, destination
// options; 8 leaves room and bounds the walk.
inline constexpr uint32_t kMaxIpv6ExtHeaders = 8;

// Parses the frame data[0, len) and fills md.outer, md.inner (zeroed unless
// VXLAN) and md.vni (the VXLAN VNI, else 0), and unsets md.flow_hash (it is
// computed when first needed: flow_hash_of); other fields of md are left
// alone. With `vxlan` false, UDP to port 4789 is plain UDP.
// Returns DropReason::kNone when the packet may be forwarded. Frames longer
// than 64 KiB are parsed over their first 64 KiB (offsets are 16-bit).
DropReason parse_packet(const uint8_t* data, uint32_t len, PktMeta& md, bool vxlan) noexcept;

// The same over the first segment of a chained mbuf: the headers must lie in
// data[0, seg_len) (a header cut by the segment end counts as truncated),
// and the IP length fields are checked against the whole pkt_len.
DropReason parse_packet(const uint8_t* data, uint32_t seg_len, uint32_t pkt_len, PktMeta& md,
                        bool vxlan) noexcept;

// The symmetric flow hash of one parsed frame (see above). `data` is the
// same buffer `layers` was parsed from. For stages that rewrite headers
// (NAT) and need the hash of the result.
uint32_t flow_hash(const uint8_t* data, const FrameLayers& layers) noexcept;

// A packet's flow hash, computed once and only where a stage needs one
// (VXLAN's source port, the load balancer's Maglev pick, the SNAT port's
// first probe). Most packets get it from the flow cache, which stores the
// hash of their connection key (conntrack/conn_key.h: as symmetric, and
// already computed for the lookup); one the cache did not key (a flood
// copy, ARP, stateless ICMP) is hashed here from its headers as they are.
inline uint32_t flow_hash_of(rte_mbuf* m) noexcept {
  PktMeta* md = meta(m);
  if (md->flow_hash == kFlowHashUnset) [[unlikely]]
    md->flow_hash = flow_hash_value(flow_hash(rte_pktmbuf_mtod(m, const uint8_t*),
                                              (md->outer.flags & kFlagVxlan) ? md->inner : md->outer));
  return md->flow_hash;
}

enum class ParseNext : uint8_t { kParsed, kCount };

class ParseStage final : public StageWith<ParseNext> {
 public:
  // Good packets go on (kParsed); malformed ones to kDrop with their reason.
  ParseStage() noexcept;

  // Ports whose UDP/4789 traffic is decapsulated VXLAN. All ports by
  // default; weftd should narrow this to the underlay port, so that a VM's
  // own UDP to port 4789 is forwarded as the plain UDP it is. Call before
  // the stage runs, or from the worker lcore between bursts.
  void set_vxlan_port(uint16_t port, bool enabled) noexcept;
  void set_vxlan_all_ports(bool enabled) noexcept;

  std::string_view name() const override { return "parse"; }

  // Each packet must carry its in_port (and trace) from rx. This sets
  // outer, inner, vni, flow_hash (unset), out_port (0), generation (0), rewrite
  // (0), xlate_conn (kNoConn), next and drop_reason; fields that later stages add are theirs to write before
  // they read them.
  // A chained mbuf (vhost-user builds them for frames larger than one
  // mbuf) is parsed in place over its first segment, which holds the whole
  // header stack whenever the segment is larger than it (2 KiB mbufs always
  // are); its IP lengths are checked against the whole chain. Linearising
  // would copy every jumbo frame for nothing. Offsets index the first
  // segment.
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;

 private:
  std::array<bool, kMaxPorts> vxlan_port_;
};

}  // namespace weft::dp
