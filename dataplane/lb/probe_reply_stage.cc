#include "dataplane/lb/probe_reply_stage.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "dataplane/lb/probe_channel.h"
#include "dataplane/lb/probe_frame.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/hash.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// The reply's fields; false when it is no probe reply.
bool read_reply(const LbTable& lbt, const rte_mbuf* m, ProbeReply& r) noexcept {
  const PktMeta* md = meta(m);
  if (md->in_port >= lbt.probe_src.size()) return false;
  const uint32_t src = lbt.probe_src[md->in_port];
  if (src == 0 || md->outer.l3_type != L3Type::kIpv4 || md->outer.l4 == 0 || md->outer.l4_proto != IPPROTO_TCP)
    return false;
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* ip = data + md->outer.l3;
  if (load_be32(ip + offsetof(rte_ipv4_hdr, dst_addr)) != src) return false;
  const uint8_t* tcp = data + md->outer.l4;
  r.in_port = md->in_port;
  r.src_ip = load_be32(ip + offsetof(rte_ipv4_hdr, src_addr));
  r.dst_ip = src;
  r.sport = load_be16(tcp + offsetof(rte_tcp_hdr, src_port));
  r.dport = load_be16(tcp + offsetof(rte_tcp_hdr, dst_port));
  r.seq = load_be32(tcp + offsetof(rte_tcp_hdr, sent_seq));
  r.ack = load_be32(tcp + offsetof(rte_tcp_hdr, recv_ack));
  r.flags = tcp[offsetof(rte_tcp_hdr, tcp_flags)];
  // The payload: what the IP packet holds past the TCP header (the parser
  // checked the lengths).
  const size_t ip_len = load_be16(ip + offsetof(rte_ipv4_hdr, total_length));
  const size_t tcp_len = static_cast<size_t>(tcp[offsetof(rte_tcp_hdr, data_off)] >> 4) * 4;
  const size_t l4_off = md->outer.l4 - md->outer.l3;
  const size_t payload = ip_len > l4_off + tcp_len ? ip_len - l4_off - tcp_len : 0;
  const size_t in_segment = rte_pktmbuf_data_len(m) > md->outer.l4 + tcp_len
                                ? std::min<size_t>(payload, rte_pktmbuf_data_len(m) - md->outer.l4 - tcp_len)
                                : 0;
  r.http_status = http_status_of(tcp + tcp_len, in_segment);
  return true;
}

// The HTTP probe the segment answers, if it is one: its request.
const std::string* http_request(const LbTable& lbt, const ProbeReply& r) noexcept {
  for (const LbProbeTarget& t : lbt.probes)
    if (t.dpdk_port == r.in_port && t.dst_ip == r.src_ip && t.dst_port == r.sport && !t.http_request.empty())
      return &t.http_request;
  return nullptr;
}

// Rewrites `m` in place into our segment back to the sender of `r`, with
// `payload` (may be empty), out of the vNIC it came from.
bool answer(rte_mbuf* m, const ProbeReply& r, uint32_t seq, uint32_t ack, uint8_t flags,
            const std::string* payload) noexcept {
  const size_t len = kProbeFrameLen + (payload != nullptr ? payload->size() : 0);
  if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) < kProbeFrameLen) return false;
  uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
  rte_ether_addr from, to;
  std::memcpy(&to, data, sizeof to);
  std::memcpy(&from, data + RTE_ETHER_ADDR_LEN, sizeof from);
  const uint32_t have = rte_pktmbuf_pkt_len(m);
  if (have > len) {
    rte_pktmbuf_trim(m, static_cast<uint16_t>(have - len));
  } else if (have < len && rte_pktmbuf_append(m, static_cast<uint16_t>(len - have)) == nullptr) {
    return false;
  }
  write_probe_segment(data, ProbeSegment{ether_to_u64(to), ether_to_u64(from), r.dst_ip, r.src_ip, r.dport, r.sport,
                                         seq, ack, flags},
                      payload != nullptr ? payload->data() : nullptr, payload != nullptr ? payload->size() : 0);
  PktMeta* md = meta(m);
  md->out_port = md->in_port;
  return true;
}

constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;

}  // namespace

void ProbeReplyStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const LbTable& lbt = ctx.snap->lbs;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ProbeReply r{};
    if (lbt.probe_src.empty() || !read_reply(lbt, m, r)) {
      send(m, ProbeReplyNext::kPass);
      continue;
    }
    if (channel_ != nullptr && !channel_->deliver(r)) {
      drop(m, DropReason::lb_probe_lost);
      continue;
    }
    bool answered = false;
    if ((r.flags & RTE_TCP_RST_FLAG) == 0) {
      const std::string* request = http_request(lbt, r);
      if ((r.flags & kSynAck) == kSynAck)  // a TCP probe ends here; an HTTP one sends its GET
        answered = request != nullptr
                       ? answer(m, r, r.ack, r.seq + 1, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, request)
                       : answer(m, r, r.ack, 0, RTE_TCP_RST_FLAG, nullptr);
      else if (request != nullptr && r.http_status != 0)  // the status line: enough
        answered = answer(m, r, r.ack, 0, RTE_TCP_RST_FLAG, nullptr);
    }
    if (answered)
      send(m, ProbeReplyNext::kAnswer);
    else
      drop(m, DropReason::lb_probe_reply);
  }
}

}  // namespace weft::dp
