#include "dataplane/gateway/gateway_in.h"

#include <rte_ip.h>

#include <cstring>

#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/l3/route_to.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// The inside end of the packet's connection: (VNI, address), or false
// for a new connection that no floating IP admits.
bool inside_end(const Snapshot& snap, const ConnTable& table, const PktMeta& md, const uint8_t* ip,
                uint32_t& vni, rte_be32_t& addr, DropReason& why) {
  if (md.xlate_conn != kNoConn) {
    const uint32_t idx = md.xlate_conn & ~kXlateReply;
    const ConnEntry& e = table.entry(idx);
    if (md.xlate_conn & kXlateReply) {  // a reply: to the originator
      vni = conn_vni(e.key);
      addr = e.key.addr[e.orig_side()];
    } else {  // an inbound connection to a floating IP: to its port
      const ConnXlate& x = table.xlate(idx);
      vni = conn_vni(x.reply_key);
      addr = x.dst;
    }
    return true;
  }
  if (ct_disposition(md.ct) != CtDisposition::kNew) {
    why = DropReason::gw_binding_gone;  // a connection of ours, untranslated: none is
    return false;
  }
  rte_be32_t dst;
  std::memcpy(&dst, ip + offsetof(rte_ipv4_hdr, dst_addr), sizeof dst);
  const FloatingIp* f = snap.gateway.floating_at(dst);
  if (f == nullptr) {
    why = DropReason::gw_no_mapping;
    return false;
  }
  vni = f->vni;
  addr = f->ip;
  return true;
}

}  // namespace

void GatewayInStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    PktMeta* md = meta(m);
    const CtDisposition d = ct_disposition(md->ct);
    // An ICMP error about a translated connection goes where the
    // connection's own packets of that way go (kFlowLookup named it).
    const bool translated_error = d == CtDisposition::kRelated && md->xlate_conn != kNoConn;
    if (md->outer.l3_type != L3Type::kIpv4 || d == CtDisposition::kStateless ||
        (d == CtDisposition::kRelated && !translated_error) || d == CtDisposition::kUntracked) {
      drop(m, DropReason::gw_stateless);
      continue;
    }
    const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + md->outer.l3;
    uint32_t vni = 0;
    rte_be32_t addr = 0;
    DropReason why = DropReason::kNone;
    if (!inside_end(snap, table_, *md, ip, vni, addr, why)) {
      drop(m, why);
      continue;
    }
    const uint64_t key = arp_key(vni, rte_be_to_cpu_32(addr));
    void* data = nullptr;
    if (!snap.gateway.serves(vni) || rte_hash_lookup_data(snap.routes.hosts.get(), &key, &data) < 0) {
      drop(m, DropReason::gw_binding_gone);
      continue;
    }
    if (const DropReason not_routed = route_to(*md, host_entry(data), snap.underlay_port);
        not_routed != DropReason::kNone)
      drop(m, not_routed);
    else
      send(m, GatewayInNext::kRouted);
  }
}

}  // namespace weft::dp
