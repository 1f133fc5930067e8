#include "dataplane/l3/router.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "dataplane/l3/route_table.h"
#include "dataplane/pipeline/trace.h"
#include "dataplane/l3/route_to.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/rewrite/checksum.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

constexpr uint32_t kMaxBurst = 64;
constexpr uint8_t kEchoTtl = 64;

// The router's answer to a ping of one of its addresses, in place: back to
// the sender, from the address it pinged. False when it is no echo
// request the router answers.
bool answer_echo(uint8_t* data, PktMeta& md, const rte_ether_addr& router_mac) {
  uint8_t* ip = data + md.outer.l3;
  if (ip[offsetof(rte_ipv4_hdr, next_proto_id)] != IPPROTO_ICMP || md.outer.l4 == 0) return false;
  uint8_t* icmp = data + md.outer.l4;
  if (icmp[0] != RTE_IP_ICMP_ECHO_REQUEST || icmp[1] != 0) return false;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data + md.outer.l2);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = router_mac;
  // Swapping the addresses leaves both checksums as they are; the TTL and
  // the ICMP type are patched in.
  uint8_t addr[4];
  std::memcpy(addr, ip + offsetof(rte_ipv4_hdr, src_addr), 4);
  std::memmove(ip + offsetof(rte_ipv4_hdr, src_addr), ip + offsetof(rte_ipv4_hdr, dst_addr), 4);
  std::memcpy(ip + offsetof(rte_ipv4_hdr, dst_addr), addr, 4);
  uint16_t old_word, new_word;
  std::memcpy(&old_word, ip + offsetof(rte_ipv4_hdr, time_to_live), 2);
  ip[offsetof(rte_ipv4_hdr, time_to_live)] = kEchoTtl;
  std::memcpy(&new_word, ip + offsetof(rte_ipv4_hdr, time_to_live), 2);
  csum_replace16(ip + offsetof(rte_ipv4_hdr, hdr_checksum), old_word, new_word);
  std::memcpy(&old_word, icmp, 2);
  icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
  std::memcpy(&new_word, icmp, 2);
  csum_replace16(icmp + offsetof(rte_icmp_hdr, icmp_cksum), old_word, new_word);
  md.out_port = md.in_port;
  return true;
}

// The network whose FIB routes the packet: its vNIC's, or, for a frame
// tunnelled to the node that hosts a gateway, its VNI's when the gateway
// serves that network. False: not ours to route.
bool routing_network(const Snapshot& snap, const PktMeta& md, uint16_t& net) {
  if (md.in_port == snap.underlay_port) {
    void* data = nullptr;
    if (!snap.gateway.serves(md.vni) || rte_hash_lookup_data(snap.networks.by_vni.get(), &md.vni, &data) < 0)
      return false;
    net = static_cast<uint16_t>(data_index(data));
    return true;
  }
  const Vnic& vn = snap.vnics.by_port[md.in_port];
  net = vn.network;
  return vn.in_policy;
}

}  // namespace

void RouterStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  for (uint16_t base = 0; base < n; base += kMaxBurst)
    route(ctx, pkts + base, static_cast<uint16_t>(std::min<uint32_t>(n - base, kMaxBurst)));
}

void RouterStage::route(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const RouteTable& rt = snap.routes;

  // Who may be routed at all, and the burst's host keys.
  uint64_t keys[kMaxBurst];
  const void* key_ptrs[kMaxBurst];
  uint32_t dst[kMaxBurst];  // host order, for the FIB
  uint16_t which[kMaxBurst];
  uint16_t net_of[kMaxBurst];  // NetworkTable index
  uint32_t count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const PktMeta* md = meta(m);
    uint16_t net;
    if (!routing_network(snap, *md, net)) {
      drop(m, DropReason::l3_not_local);
      continue;
    }
    if (md->outer.l3_type != L3Type::kIpv4) {
      drop(m, DropReason::l3_not_ipv4);
      continue;
    }
    const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3;
    dst[count] = load_be32(ip + offsetof(rte_ipv4_hdr, dst_addr));
    keys[count] = arp_key(md->vni, dst[count]);
    key_ptrs[count] = &keys[count];
    net_of[count] = net;
    which[count++] = i;
  }
  if (count == 0) return;
  uint64_t hits = 0;
  void* host[kMaxBurst];
  rte_hash_lookup_bulk_data(rt.hosts.get(), key_ptrs, count, &hits, host);

  // The router's own addresses, and TTL: before any route is looked at.
  uint32_t routed = 0;
  for (uint32_t k = 0; k < count; ++k) {
    rte_mbuf* m = pkts[which[k]];
    PktMeta* md = meta(m);
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    const bool known = hits & (uint64_t{1} << k);
    const bool tunnelled = md->in_port == snap.underlay_port;
    if (known && tunnelled) {  // the gateway's node routes only what leaves the network
      drop(m, DropReason::l3_not_local);
      continue;
    }
    if (known && host_entry(host[k]).kind == FdbKind::kRouter) {
      const Vnic& vn = snap.vnics.by_port[md->in_port];
      if (answer_echo(data, *md, snap.networks.networks[vn.network].router_mac)) send(m, RouterNext::kAnswer);
      else drop(m, DropReason::l3_to_router);
      continue;
    }
    // A tunnelled packet lost its hop on the source node, whose router
    // checked the TTL: the gateway is no hop of its own.
    if (!tunnelled && data[md->outer.l3 + offsetof(rte_ipv4_hdr, time_to_live)] <= 1) {
      md->drop_reason = static_cast<uint16_t>(DropReason::l3_ttl_exceeded);
      send(m, RouterNext::kIcmpError);
      continue;
    }
    // Compacted in place: k >= routed, so nothing unread is overwritten.
    which[routed] = which[k];
    dst[routed] = dst[k];
    net_of[routed] = net_of[k];
    host[routed] = known ? host[k] : nullptr;
    ++routed;
  }

  // One FIB lookup per run of packets of one network (a burst from one
  // vNIC is one run).
  uint64_t hop[kMaxBurst];
  for (uint32_t start = 0; start < routed;) {
    const uint16_t net = net_of[start];
    uint32_t end = start + 1;
    while (end < routed && net_of[end] == net) ++end;
    if (net < rt.fib.size()) {
      rte_fib_lookup_bulk(rt.fib[net].get(), dst + start, hop + start, end - start);
    } else {
      std::fill(hop + start, hop + end, RouteTable::kNoRoute);
    }
    start = end;
  }

  for (uint32_t k = 0; k < routed; ++k) {
    rte_mbuf* m = pkts[which[k]];
    PktMeta* md = meta(m);
    DropReason why = DropReason::kNone;
    HostEntry to{};
    if (ctx.tracer != nullptr) [[unlikely]] {
      if (hop[k] < rt.routes.size()) trace_fact(ctx, m, TraceFact::kRoute, static_cast<uint32_t>(hop[k]));
      else trace_fact(ctx, m, TraceFact::kNoRoute, 0);
    }
    const bool tunnelled = md->in_port == snap.underlay_port;
    if (tunnelled && (hop[k] >= rt.routes.size() || rt.routes[hop[k]].kind != RouteKind::kGateway ||
                      rt.routes[hop[k]].hop.kind != FdbKind::kLocal)) {
      drop(m, DropReason::l3_not_local);  // only out of the gateway's external port
      continue;
    }
    if (hop[k] >= rt.routes.size()) {
      why = DropReason::no_route;
    } else if (const RouteEntry& r = rt.routes[hop[k]]; r.kind != RouteKind::kConnected) {
      // A tunnelled packet had its TTL and MACs done on the source node.
      to = {r.hop.kind, r.hop.value, tunnelled ? RewriteTable::kNone : r.rewrite};
    } else if (host[k] != nullptr) {
      to = host_entry(host[k]);
    } else if (r.broadcast != 0 && dst[k] == r.broadcast) {
      // A directed broadcast is not forwarded (RFC 2644), and no ICMP
      // error is sent about a packet to a broadcast address (RFC 1812
      // 4.3.2.7).
      drop(m, DropReason::l3_host_unknown);
      continue;
    } else {
      why = DropReason::l3_host_unknown;
    }
    const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3;
    if (why == DropReason::kNone &&
        load_be16(ip + offsetof(rte_ipv4_hdr, total_length)) > snap.networks.networks[net_of[k]].mtu)
      why = DropReason::l3_mtu_exceeded;
    if (why != DropReason::kNone) {
      md->drop_reason = static_cast<uint16_t>(why);
      send(m, RouterNext::kIcmpError);
      continue;
    }
    if (const DropReason not_routed = route_to(*md, to, snap.underlay_port); not_routed != DropReason::kNone)
      drop(m, not_routed);
    else
      send(m, RouterNext::kRouted);
  }
}

}  // namespace weft::dp
