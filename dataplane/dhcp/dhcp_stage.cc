#include "dataplane/dhcp/dhcp_stage.h"

#include <cstring>

#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// Writes the reply over the request: the mbuf is the request's own, so an
// answer costs no allocation. False when the mbuf cannot hold it.
bool replace_frame(rte_mbuf* m, const uint8_t* frame, uint32_t len) {
  const uint32_t have = rte_pktmbuf_data_len(m);
  if (len > have) {
    if (rte_pktmbuf_append(m, static_cast<uint16_t>(len - have)) == nullptr) return false;
  } else if (rte_pktmbuf_trim(m, static_cast<uint16_t>(have - len)) != 0) {
    return false;
  }
  std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame, len);
  return true;
}

}  // namespace

void DhcpStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    if (!snap.dhcp.enabled[md->in_port]) {
      drop(m, DropReason::dhcp_disabled);
      continue;
    }
    // A chained mbuf (vhost-user, large frames) is no DHCP client's: its
    // first segment is all dhcp_answer reads, and the reply must fit it.
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    uint8_t reply[kDhcpReplyMaxLen];
    uint32_t reply_len = 0;
    const Vnic& vn = snap.vnics.by_port[md->in_port];
    DhcpVerdict v =
        m->nb_segs != 1 ? DhcpVerdict::truncated
                        : dhcp_answer(data, rte_pktmbuf_data_len(m), md->outer, snap.dhcp.lease[md->in_port],
                                      snap.networks.networks[vn.network].router_mac, reply, sizeof reply,
                                      reply_len);
    if (dhcp_replied(v) && !replace_frame(m, reply, reply_len)) v = DhcpVerdict::no_room;
    stats_.verdicts[static_cast<size_t>(v)].inc();
    if (dhcp_replied(v)) {
      md->out_port = md->in_port;
      send(m, DhcpNext::kReply);
    } else {
      drop(m, dhcp_refused(v) ? DropReason::dhcp_refused : DropReason::dhcp_no_answer);
    }
  }
}

}  // namespace weft::dp
