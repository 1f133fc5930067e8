#include "dataplane/rewrite/rewrite.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/rewrite/icmp_xlate.h"
#include "dataplane/rewrite/ttl.h"
#include "dataplane/pipeline/tail.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/rewrite/checksum.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// Where the L4 checksum lives that covers the IPv4 addresses (the pseudo
// header) and the ports: null when there is none to patch (UDP's optional
// checksum unused, a protocol without ports).
uint8_t* l4_checksum(uint8_t* l4, uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return l4 + offsetof(rte_tcp_hdr, cksum);
    case IPPROTO_UDP: {
      uint8_t* sum = l4 + offsetof(rte_udp_hdr, dgram_cksum);
      return load<uint16_t>(sum) != 0 ? sum : nullptr;
    }
    default:
      return nullptr;
  }
}

// A field set to `now`, its change added to the checksums' deltas. An
// unchanged field adds nothing (not ~x + x, which would turn a checksum of
// +0 into -0).
template <typename T>
void set_field(uint8_t* field, T now, CsumDelta& d) {
  const auto old = load<T>(field);
  if (old == now) return;
  if constexpr (sizeof(T) == 4) d.replace32(old, now);
  else d.replace16(old, now);
  store(field, now);
}

// Rewrites the packet's tuple to (src, sport) -> (dst, dport). ICMP echo
// carries the identifier as both "ports" (conn_key.h); its checksum covers
// no pseudo header.
void set_tuple(uint8_t* data, const PktMeta& md, rte_be32_t src, rte_be16_t sport, rte_be32_t dst,
               rte_be16_t dport) {
  uint8_t* ip = data + md.outer.l3;
  const uint8_t proto = ip[offsetof(rte_ipv4_hdr, next_proto_id)];
  uint8_t* l4 = md.outer.l4 != 0 ? data + md.outer.l4 : nullptr;
  CsumDelta addresses;  // the IP header's, and the TCP/UDP pseudo header's
  set_field(ip + kIpSrc, src, addresses);
  set_field(ip + kIpDst, dst, addresses);
  addresses.apply(ip + kIpChecksum);
  if (l4 == nullptr) return;
  switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP: {
      CsumDelta l4d = addresses;
      set_field(l4, sport, l4d);
      set_field(l4 + 2, dport, l4d);
      uint8_t* sum = l4_checksum(l4, proto);
      if (sum == nullptr) break;
      l4d.apply(sum);
      // RFC 768: a UDP checksum that computes to zero is sent as all ones
      // (zero says there is none).
      if (proto == IPPROTO_UDP && load<uint16_t>(sum) == 0) store<uint16_t>(sum, 0xffff);
      break;
    }
    case IPPROTO_ICMP: {
      // An echo request carries the originator's identifier, a reply the
      // same identifier back: the side the reply is addressed to. Its
      // checksum covers no pseudo header.
      const rte_be16_t id = l4[0] == RTE_IP_ICMP_ECHO_REQUEST ? sport : dport;
      CsumDelta icmp;
      set_field(l4 + offsetof(rte_icmp_hdr, icmp_ident), id, icmp);
      icmp.apply(l4 + offsetof(rte_icmp_hdr, icmp_cksum));
      break;
    }
    default:
      break;
  }
}

void translate(uint8_t* data, PktMeta& md, const ConnEntry& e, const ConnXlate& x, bool reply) {
  if (!reply) {
    set_tuple(data, md, x.src, x.sport, x.dst, x.dport);
    md.vni = conn_vni(x.reply_key);  // where the replies come from
    return;
  }
  // Back to the tuple the originator sent, seen from the other end.
  const uint8_t o = e.orig_side();
  set_tuple(data, md, e.key.addr[1 - o], e.key.port[1 - o], e.key.addr[o], e.key.port[o]);
  md.vni = conn_vni(e.key);
}

// Whether a translated packet is an ICMP error: one only gets a
// translation from kFlowLookup's check of its quote (RELATED), and never
// from the cache, so its bytes say it (PktMeta::ct is not written on a
// cache hit).
bool is_icmp_error(const uint8_t* data, const PktMeta& md) {
  return data[md.outer.l3 + offsetof(rte_ipv4_hdr, next_proto_id)] == IPPROTO_ICMP && md.outer.l4 != 0 &&
         icmp_is_error(data[md.outer.l4]);
}

// An ICMP error about the connection (RELATED: kFlowLookup matched its
// quote), going to the originator (`reply`) or to the peer on the
// translated side: the quote becomes what that end sent.
DropReason translate_error(uint8_t* data, uint32_t len, PktMeta& md, const ConnEntry& e, const ConnXlate& x,
                           bool reply) {
  const uint8_t o = e.orig_side();
  const QuoteTuple to = reply ? QuoteTuple{e.key.addr[o], e.key.addr[1 - o], e.key.port[o], e.key.port[1 - o]}
                              : QuoteTuple{x.dst, x.src, x.dport, x.sport};
  switch (translate_icmp_error(data + md.outer.l3, len - md.outer.l3, to)) {
    case IcmpXlateResult::kOk:
      md.vni = conn_vni(reply ? e.key : x.reply_key);
      return DropReason::kNone;
    case IcmpXlateResult::kBadChecksum:
      return DropReason::icmp_xlate_bad_checksum;
    case IcmpXlateResult::kMalformed:
      break;
  }
  return DropReason::icmp_xlate_malformed;
}

}  // namespace

void RewriteStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const RewriteTable& rewrites = snap.rewrites;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (md->rewrite >= rewrites.size() || md->outer.l3_type != L3Type::kIpv4) {
      drop(m, DropReason::internal_error);  // only routed and translated IPv4 is sent here
      continue;
    }
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    uint8_t* ip = data + md->outer.l3;
    const RewriteEntry& r = rewrites[md->rewrite];
    // Both checks before anything is written: an ICMP error quotes the
    // packet as its sender sent it.
    if ((r.flags & kRewriteTtl) && ip[kIpTtl] <= 1) {
      md->drop_reason = static_cast<uint16_t>(DropReason::l3_ttl_exceeded);
      send(m, RewriteNext::kIcmpError);
      continue;
    }
    if (r.mtu != 0 && load_be16(ip + offsetof(rte_ipv4_hdr, total_length)) > r.mtu) {
      md->drop_reason = static_cast<uint16_t>(DropReason::l3_mtu_exceeded);
      send(m, RewriteNext::kIcmpError);
      continue;
    }
    // ipv4_decrement_ttl computes the new TTL-and-protocol word in registers: reading
    // it back after storing the TTL byte stalled store forwarding, half of
    // this stage's cycles (perf record on vxlan-routed).
    if (r.flags & kRewriteTtl) ipv4_decrement_ttl(reinterpret_cast<rte_ipv4_hdr*>(ip));
    if (r.flags & kRewriteMacs) {
      auto* eth = reinterpret_cast<rte_ether_hdr*>(data + md->outer.l2);
      eth->src_addr = r.src_mac;
      eth->dst_addr = r.dst_mac;
    }
    if (md->xlate_conn != kNoConn) {
      const uint32_t idx = md->xlate_conn & ~kXlateReply;
      if (idx >= table_.capacity()) {
        drop(m, DropReason::internal_error);
        continue;
      }
      const bool reply = md->xlate_conn & kXlateReply;
      if (is_icmp_error(data, *md)) {
        if (const DropReason why =
                translate_error(data, rte_pktmbuf_data_len(m), *md, table_.entry(idx), table_.xlate(idx), reply);
            why != DropReason::kNone) {
          drop(m, why);
          continue;
        }
      } else {
        translate(data, *md, table_.entry(idx), table_.xlate(idx), reply);
      }
    }
    if (tail_step_after_rewrite(*md, snap.underlay_port) == TailStep::kQos)
      send(m, RewriteNext::kQos);
    else
      send(m, out_edge<RewriteNext>(*md, snap.underlay_port, snap.external_port));
  }
}

}  // namespace weft::dp
