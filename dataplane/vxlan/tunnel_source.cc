#include "dataplane/vxlan/tunnel_source.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>

#include <cstddef>

#include <algorithm>

#include "dataplane/flowcache/ct_meta.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {
namespace {

// Whether an entry the policy placed (kind, value) may be the source of a
// frame from peer `vtep`: the router's are every node's, a remote one
// must be that peer's, and a local port's no peer's.
bool placed_on(FdbKind kind, uint32_t value, uint16_t vtep) {
  return kind == FdbKind::kRouter || (kind == FdbKind::kRemote && value == vtep);
}

}  // namespace

void TunnelSourceStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
    const uint16_t count = std::min<uint16_t>(n - base, RTE_HASH_LOOKUP_BULK_MAX);
    rte_mbuf** burst = pkts + base;

    FdbKey macs[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t ips[RTE_HASH_LOOKUP_BULK_MAX];
    const void* mac_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    const void* ip_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    for (uint16_t k = 0; k < count; ++k) {
      const rte_mbuf* m = burst[k];
      const PktMeta* md = meta(m);
      const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
      const auto* eth = reinterpret_cast<const rte_ether_hdr*>(frame + md->outer.l2);
      // The source address the frame claims: IPv4's, or an ARP sender's
      // (the parser has checked either header is whole); 0: none.
      const uint8_t* l3 = frame + md->outer.l3;
      uint32_t src_ip = 0;
      if (md->outer.l3_type == L3Type::kIpv4)
        src_ip = load_be32(l3 + offsetof(rte_ipv4_hdr, src_addr));
      else if (md->outer.l3_type == L3Type::kArp)
        src_ip = load_be32(l3 + offsetof(rte_arp_hdr, arp_data) + offsetof(rte_arp_ipv4, arp_sip));
      macs[k] = fdb_key(md->vni, eth->src_addr);
      ips[k] = arp_key(md->vni, src_ip);
      mac_ptrs[k] = &macs[k];
      ip_ptrs[k] = &ips[k];
    }

    uint64_t mac_hits = 0, ip_hits = 0;
    void* mac_data[RTE_HASH_LOOKUP_BULK_MAX];
    void* ip_data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(snap.l2.fdb.get(), mac_ptrs, count, &mac_hits, mac_data);
    rte_hash_lookup_bulk_data(snap.routes.hosts.get(), ip_ptrs, count, &ip_hits, ip_data);
    for (uint16_t k = 0; k < count; ++k) {
      rte_mbuf* m = burst[k];
      const PktMeta* md = meta(m);
      const uint64_t bit = uint64_t{1} << k;
      bool elsewhere = false;
      if (mac_hits & bit) {
        const FdbEntry e = fdb_entry(mac_data[k]);
        elsewhere = !placed_on(e.kind, e.value, md->src_vtep);
      }
      if (!elsewhere && (ip_hits & bit)) {
        const HostEntry h = host_entry(ip_data[k]);
        elsewhere = !placed_on(h.kind, h.value, md->src_vtep);
      }
      if (elsewhere)
        drop(m, DropReason::vxlan_inner_src_spoofed);
      else if (ct_disposition(md->ct) == CtDisposition::kWrongIngress)
        drop(m, DropReason::ct_port_mismatch);
      else
        send(m, TunnelSourceNext::kChecked);
    }
  }
}

}  // namespace weft::dp
