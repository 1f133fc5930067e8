#include "dataplane/gateway/external_in.h"

#include <rte_arp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/arp/arp_frame.h"
#include "dataplane/gateway/vlan.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/underlay/host_arp.h"

namespace weft::dp {

void ExternalInStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const GatewayTable& gw = snap.gateway;
  const ExternalIdentity& ext = snap.external;
  auto is_own = [&gw](rte_be32_t ip) { return gw.own_address(ip); };
  auto on_link = [](uint32_t) { return true; };  // only the tracked next hop is ever learned
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const bool tagged = md->outer.flags & kFlagVlan;
    if (tagged != (ext.vlan != 0) ||
        (tagged && ((md->outer.vlan_tci & 0xfff) != ext.vlan || md->outer.l3 != RTE_ETHER_HDR_LEN + kVlanTagLen))) {
      drop(m, DropReason::gw_vlan_mismatch);
      continue;
    }
    if (tagged) strip_vlan(m, *md);
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(data + md->outer.l2);
    if (md->outer.l3_type == L3Type::kArp) {
      if (!gw.hosted) {
        drop(m, DropReason::gw_arp_not_ours);
        continue;
      }
      auto* arp = reinterpret_cast<rte_arp_hdr*>(data + md->outer.l3);
      switch (host_arp(*snap.external_neighbors, *arp, ctx.now_tsc, is_own, on_link)) {
        case HostArp::kAnswer:
          arp_reply_in_place(eth, arp, ext.mac);
          md->out_port = md->in_port;
          send(m, ExternalInNext::kArpReply);
          break;
        case HostArp::kLearned:
          drop(m, DropReason::gw_arp_learned);
          break;
        case HostArp::kNotOurs:
          drop(m, DropReason::gw_arp_not_ours);
          break;
      }
      continue;
    }
    if (md->outer.l3_type != L3Type::kIpv4) {
      drop(m, DropReason::gw_not_ipv4);
      continue;
    }
    if (!rte_is_same_ether_addr(&eth->dst_addr, &ext.mac)) {
      drop(m, DropReason::gw_not_for_us);
      continue;
    }
    const uint8_t* ip = data + md->outer.l3;
    rte_be32_t src, dst;
    std::memcpy(&src, ip + offsetof(rte_ipv4_hdr, src_addr), sizeof src);
    std::memcpy(&dst, ip + offsetof(rte_ipv4_hdr, dst_addr), sizeof dst);
    if (martian_source(rte_be_to_cpu_32(src)) || gw.own_address(src)) {
      drop(m, DropReason::gw_martian_source);
      continue;
    }
    // The SNAT address first: the replies of every SNAT connection.
    if (!gw.hosted || (dst != gw.external_ip && gw.floating_at(dst) == nullptr)) {
      drop(m, DropReason::gw_unknown_destination);
      continue;
    }
    md->vni = 0;
    send(m, ExternalInNext::kIp);
  }
}

}  // namespace weft::dp
