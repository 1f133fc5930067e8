#include "dataplane/lb/probe_reply_stage.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

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
    if ((r.flags & (kSynAck | RTE_TCP_RST_FLAG)) != kSynAck || !rte_pktmbuf_is_contiguous(m) ||
        rte_pktmbuf_data_len(m) < kProbeFrameLen) {
      drop(m, DropReason::lb_probe_reply);
      continue;
    }
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    rte_ether_addr from, to;
    std::memcpy(&to, data, sizeof to);
    std::memcpy(&from, data + RTE_ETHER_ADDR_LEN, sizeof from);
    write_probe_segment(data, ProbeSegment{ether_to_u64(to), ether_to_u64(from), r.dst_ip, r.src_ip, r.dport,
                                           r.sport, r.ack, 0, RTE_TCP_RST_FLAG});
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - kProbeFrameLen));
    PktMeta* md = meta(m);
    md->out_port = md->in_port;
    send(m, ProbeReplyNext::kAnswer);
  }
}

}  // namespace weft::dp
