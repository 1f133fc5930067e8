#include "dataplane/portsec/port_security.h"

#include <netinet/in.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <algorithm>

#include "dataplane/dhcp/dhcp_wire.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {


bool owns_ip(const Vnic& vn, rte_be32_t ip) {
  if (ip == vn.ip) return true;
  for (const Vnic::Allowed& a : vn.allowed)
    if ((ip & a.mask) == a.addr) return true;
  return false;
}

uint16_t udp_port(const uint8_t* data, const FrameLayers& f, size_t field) {
  if (f.l4_proto != IPPROTO_UDP || f.l4 == 0) return 0;
  return load_be16(data + f.l4 + field);
}

// RFC 2131 §4.1: a client without an address sends from 0.0.0.0, port 68 to
// port 67. Anything else from 0.0.0.0 is a spoof.
bool dhcp_client_without_address(const uint8_t* data, const FrameLayers& f) {
  return udp_port(data, f, offsetof(rte_udp_hdr, src_port)) == kDhcpClientPort &&
         udp_port(data, f, offsetof(rte_udp_hdr, dst_port)) == kDhcpServerPort;
}

DropReason check(const Vnic& vn, const uint8_t* data, const FrameLayers& f) {
  if (f.flags & kFlagVlan) return DropReason::portsec_vlan;
  const auto* eth = reinterpret_cast<const rte_ether_hdr*>(data + f.l2);
  if (!rte_is_same_ether_addr(&eth->src_addr, &vn.mac)) return DropReason::portsec_mac;
  switch (f.l3_type) {
    case L3Type::kIpv4: {
      rte_be32_t src;
      std::memcpy(&src, data + f.l3 + offsetof(rte_ipv4_hdr, src_addr), sizeof src);
      if (!owns_ip(vn, src) && !(src == 0 && dhcp_client_without_address(data, f)))
        return DropReason::portsec_ip;
      if (udp_port(data, f, offsetof(rte_udp_hdr, src_port)) == kDhcpServerPort &&
          udp_port(data, f, offsetof(rte_udp_hdr, dst_port)) == kDhcpClientPort)
        return DropReason::portsec_dhcp_server;
      return DropReason::kNone;
    }
    case L3Type::kArp: {
      const auto* arp = reinterpret_cast<const rte_arp_hdr*>(data + f.l3);
      if (!rte_is_same_ether_addr(&arp->arp_data.arp_sha, &vn.mac)) return DropReason::portsec_mac;
      rte_be32_t sender;
      std::memcpy(&sender, &arp->arp_data.arp_sip, sizeof sender);
      return sender == 0 || owns_ip(vn, sender) ? DropReason::kNone : DropReason::portsec_ip;
    }
    case L3Type::kIpv6:
      return DropReason::portsec_ipv6;
    case L3Type::kNone:
      break;
  }
  return DropReason::unsupported_ethertype;  // the parser lets none through
}

}  // namespace

PortSecurityStage::PortSecurityStage(const BroadcastLimit& limit) noexcept
    : StageWith({"ip", "arp", "dhcp", "probed"}) {
  if (limit.rate == 0 || limit.tsc_hz == 0) return;
  interval_ = std::max<uint64_t>(1, limit.tsc_hz / limit.rate);
  // A burst the clock cannot express is as good as unlimited.
  constexpr uint64_t kMaxTolerance = uint64_t{1} << 62;
  tolerance_ =
      std::min<uint64_t>(std::max<uint64_t>(limit.burst, 1) - 1, kMaxTolerance / interval_) *
      interval_;
}

bool PortSecurityStage::take_broadcast_token(uint16_t port, uint64_t now) noexcept {
  if (interval_ == 0) return true;
  uint64_t& full_at = full_at_[port];
  if (full_at > now && full_at - now > tolerance_) return false;
  full_at = std::max(full_at, now) + interval_;
  return true;
}

void PortSecurityStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const auto& vnics = ctx.snap->vnics.by_port;
  const LbTable& lbs = ctx.snap->lbs;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const Vnic& vn = vnics[md->in_port];
    const DropReason r = check(vn, rte_pktmbuf_mtod(m, const uint8_t*), md->outer);
    if (r != DropReason::kNone) {
      drop(m, r);
      continue;
    }
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(data + md->outer.l2);
    if (rte_is_multicast_ether_addr(&eth->dst_addr) &&
        !take_broadcast_token(md->in_port, ctx.now_tsc)) {
      drop(m, DropReason::portsec_broadcast_limit);
      continue;
    }
    md->vni = vn.vni;
    if (md->outer.l3_type == L3Type::kArp)
      send(m, PortSecurityNext::kArp);
    else if (udp_port(data, md->outer, offsetof(rte_udp_hdr, dst_port)) == kDhcpServerPort)
      send(m, PortSecurityNext::kDhcp);
    else
      send(m, lbs.probes_on(md->in_port) ? PortSecurityNext::kProbed : PortSecurityNext::kIp);
  }
}

}  // namespace weft::dp
