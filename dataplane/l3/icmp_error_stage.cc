#include "dataplane/l3/icmp_error_stage.h"

#include <rte_ip.h>

#include "dataplane/l3/icmp_error.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/pipeline/worker_stats.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

bool dont_fragment(const uint8_t* data, const PktMeta& md) {
  return load_be16(data + md.outer.l3 + offsetof(rte_ipv4_hdr, fragment_offset)) & RTE_IPV4_HDR_DF_FLAG;
}

// The error to send about a packet dropped for `why`, if any.
bool error_for(DropReason why, const uint8_t* data, const PktMeta& md, IcmpErrorKind& kind) {
  switch (why) {
    case DropReason::l3_ttl_exceeded:
      kind = IcmpErrorKind::kTimeExceeded;
      return true;
    case DropReason::no_route:
      kind = IcmpErrorKind::kNetUnreachable;
      return true;
    case DropReason::l3_host_unknown:
      kind = IcmpErrorKind::kHostUnreachable;
      return true;
    case DropReason::l3_mtu_exceeded:
      kind = IcmpErrorKind::kFragmentationNeeded;
      return dont_fragment(data, md);
    default:
      return false;
  }
}

}  // namespace

void IcmpErrorStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const auto why = static_cast<DropReason>(md->drop_reason);
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m);
    IcmpErrorKind kind;
    const Vnic& vn = snap.vnics.by_port[md->in_port];
    if (vn.in_policy && md->outer.l3_type == L3Type::kIpv4 && error_for(why, data, *md, kind) &&
        icmp_error_allowed(data, len, md->outer)) {
      if (!limit_.try_take(ctx.now_tsc)) {
        if (ctx.stats != nullptr) ctx.stats->icmp_errors_limited.inc();
      } else if (rte_mbuf* e = rte_pktmbuf_alloc(ctx.pool)) {
        auto* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(e, kIcmpErrorMaxFrameLen));
        const Network& net = snap.networks.networks[vn.network];
        const uint32_t written =
            out == nullptr ? 0
                           : write_icmp_error(data, len, md->outer, kind, static_cast<uint16_t>(vn.mtu),
                                              net.router_mac, rte_be_to_cpu_32(vn.gateway), out,
                                              kIcmpErrorMaxFrameLen);
        if (written == 0) {
          rte_pktmbuf_free(e);
        } else {
          rte_pktmbuf_trim(e, static_cast<uint16_t>(kIcmpErrorMaxFrameLen - written));
          PktMeta* em = meta(e);
          *em = PktMeta{};
          em->outer.l3 = RTE_ETHER_HDR_LEN;
          em->outer.ethertype = RTE_ETHER_TYPE_IPV4;
          em->outer.l3_type = L3Type::kIpv4;
          em->in_port = md->in_port;
          em->out_port = md->in_port;
          ctx.pipeline->enqueue(e, edge(IcmpErrorNext::kLocal));
          if (ctx.stats != nullptr) ctx.stats->icmp_errors_sent.inc();
        }
      }
    }
    drop(m, why);
  }
}

}  // namespace weft::dp
