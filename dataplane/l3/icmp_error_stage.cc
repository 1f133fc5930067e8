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

// Who an error comes from, and the MTU a fragmentation-needed names.
struct Sender {
  rte_ether_addr mac;
  uint32_t ip;  // host order
  uint16_t mtu;
};

// A VM's packet: its subnet's gateway, its network's MTU.
Sender tenant_sender(const Snapshot& snap, const Vnic& vn) {
  return {snap.networks.networks[vn.network].router_mac, rte_be_to_cpu_32(vn.gateway),
          static_cast<uint16_t>(vn.mtu)};
}

// A packet from the external network, before any translation: the
// gateway's external address, and the MTU of the network it was routed
// to (its rewrite's).
Sender external_sender(const Snapshot& snap, const PktMeta& md) {
  const uint32_t mtu = md.rewrite < snap.rewrites.size() ? snap.rewrites[md.rewrite].mtu : 0;
  return {snap.external.mac, rte_be_to_cpu_32(snap.gateway.external_ip), static_cast<uint16_t>(mtu)};
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
    const bool external = md->in_port == snap.external_port && snap.gateway.hosted;
    if ((vn.in_policy || external) && md->outer.l3_type == L3Type::kIpv4 && error_for(why, data, *md, kind) &&
        icmp_error_allowed(data, len, md->outer)) {
      if (!limit_.try_take(ctx.now_tsc)) {
        if (ctx.stats != nullptr) ctx.stats->icmp_errors_limited.inc();
      } else if (rte_mbuf* e = rte_pktmbuf_alloc(ctx.pool)) {
        auto* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(e, kIcmpErrorMaxFrameLen));
        const Sender from = external ? external_sender(snap, *md) : tenant_sender(snap, vn);
        const uint32_t written =
            out == nullptr ? 0
                           : write_icmp_error(data, len, md->outer, kind, from.mtu, from.mac, from.ip, out,
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
          ctx.pipeline->enqueue(e, edge(external ? IcmpErrorNext::kExternal : IcmpErrorNext::kLocal));
          if (ctx.stats != nullptr) ctx.stats->icmp_errors_sent.inc();
        }
      }
    }
    drop(m, why);
  }
}

}  // namespace weft::dp
