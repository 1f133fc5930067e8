#include "dataplane/vxlan/decap.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstddef>

#include <algorithm>

#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/vxlan/wire.h"

namespace weft::dp {
namespace {

// The inner frame becomes the frame: its layers move up by `by` bytes.
FrameLayers shifted(FrameLayers f, uint16_t by) {
  f.l2 = static_cast<uint16_t>(f.l2 - by);
  f.l3 = static_cast<uint16_t>(f.l3 - by);
  if (f.l4 != 0) f.l4 = static_cast<uint16_t>(f.l4 - by);
  return f;
}

}  // namespace

void VxlanDecapStage::process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept {
  const Snapshot& snap = *ctx.snap;
  const rte_be32_t own_ip = rte_cpu_to_be_32(snap.underlay.ip);
  for (uint16_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
    const uint16_t count = std::min<uint16_t>(n - base, RTE_HASH_LOOKUP_BULK_MAX);
    rte_mbuf** burst = pkts + base;

    // Only IPv4 to our own address gets as far as the lookups. A burst is
    // nearly always one peer's packets in one VNI, so each run of equal
    // (source, VNI) is looked up once (as VPP's vxlan4-input keeps its
    // last tunnel key), and the runs in bulk.
    uint32_t sources[RTE_HASH_LOOKUP_BULK_MAX];
    uint32_t vnis[RTE_HASH_LOOKUP_BULK_MAX];
    const void* source_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    const void* vni_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    uint16_t which[RTE_HASH_LOOKUP_BULK_MAX];  // packet of each lookup candidate
    uint8_t run[RTE_HASH_LOOKUP_BULK_MAX];     // its run of equal keys
    uint32_t local = 0, runs = 0;
    for (uint16_t i = 0; i < count; ++i) {
      rte_mbuf* m = burst[i];
      const PktMeta* md = meta(m);
      const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, md->outer.l3);
      if (md->outer.l3_type != L3Type::kIpv4 || ip->dst_addr != own_ip) {
        drop(m, DropReason::vxlan_not_local);
        continue;
      }
      const uint32_t source = rte_be_to_cpu_32(ip->src_addr);
      if (runs == 0 || source != sources[runs - 1] || md->vni != vnis[runs - 1]) {
        sources[runs] = source;
        vnis[runs] = md->vni;
        source_ptrs[runs] = &sources[runs];
        vni_ptrs[runs] = &vnis[runs];
        ++runs;
      }
      run[local] = static_cast<uint8_t>(runs - 1);
      which[local++] = i;
    }
    if (local == 0) continue;

    uint64_t known_vtep = 0, known_vni = 0;
    void* vtep_data[RTE_HASH_LOOKUP_BULK_MAX];
    void* network[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(snap.vteps.by_ip.get(), source_ptrs, runs, &known_vtep, vtep_data);
    rte_hash_lookup_bulk_data(snap.networks.by_vni.get(), vni_ptrs, runs, &known_vni, network);

    // The outer checks; the survivors' inner source MAC and IPv4 address
    // are then looked up in bulk.
    uint16_t pass[RTE_HASH_LOOKUP_BULK_MAX];   // packet of each survivor
    uint16_t vtep_of[RTE_HASH_LOOKUP_BULK_MAX];
    FdbKey macs[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t ips[RTE_HASH_LOOKUP_BULK_MAX];
    const void* mac_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    const void* ip_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    uint32_t passed = 0;
    for (uint32_t k = 0; k < local; ++k) {
      rte_mbuf* m = burst[which[k]];
      PktMeta* md = meta(m);
      const uint64_t bit = uint64_t{1} << run[k];
      if (!(known_vtep & bit)) {
        drop(m, DropReason::vxlan_unknown_vtep);
        continue;
      }
      if (!(known_vni & bit)) {
        drop(m, DropReason::vxlan_unknown_vni);
        continue;
      }
      const uint32_t net_index = data_index(network[run[k]]);
      const auto vtep = static_cast<uint16_t>(data_index(vtep_data[run[k]]));
      if (!snap.l2.hosts(vtep, net_index)) {
        drop(m, DropReason::vxlan_vni_not_hosted);
        continue;
      }
      const Network& net = snap.networks.networks[net_index];
      // The tunnel ends where the outer UDP datagram does (the parser has
      // checked it lies inside the packet); anything after is padding.
      const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, md->outer.l4);
      const uint32_t end = md->outer.l4 + rte_be_to_cpu_16(udp->dgram_len);
      // The MTU bounds the inner frame past its Ethernet header (and tags).
      if (end - md->inner.l3 > net.mtu) {
        drop(m, DropReason::vxlan_decap_mtu);
        continue;
      }
      if (md->inner.flags & kFlagVlan) {
        drop(m, DropReason::vxlan_inner_vlan);
        continue;
      }
      const auto* eth = rte_pktmbuf_mtod_offset(m, const rte_ether_hdr*, md->inner.l2);
      if (rte_is_multicast_ether_addr(&eth->src_addr)) {
        drop(m, DropReason::vxlan_inner_src_multicast);
        continue;
      }
      if (rte_pktmbuf_pkt_len(m) > end) rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - end));
      // The source address the frame claims: IPv4's, or an ARP sender's
      // (the parser has checked either header is whole); 0: none.
      const uint8_t* l3 = rte_pktmbuf_mtod(m, const uint8_t*) + md->inner.l3;
      uint32_t src_ip = 0;
      if (md->inner.l3_type == L3Type::kIpv4)
        src_ip = load_be32(l3 + offsetof(rte_ipv4_hdr, src_addr));
      else if (md->inner.l3_type == L3Type::kArp)
        src_ip = load_be32(l3 + offsetof(rte_arp_hdr, arp_data) + offsetof(rte_arp_ipv4, arp_sip));
      macs[passed] = fdb_key(md->vni, eth->src_addr);
      ips[passed] = arp_key(md->vni, src_ip);
      mac_ptrs[passed] = &macs[passed];
      ip_ptrs[passed] = &ips[passed];
      vtep_of[passed] = vtep;
      pass[passed++] = which[k];
    }
    if (passed == 0) continue;

    // A source the policy places somewhere: it must be the sending peer.
    // The network's router MAC and addresses are any node's (routed frames
    // leave every node from them); a source the policy does not place (an
    // allowed address, a gateway's outside world) passes.
    uint64_t mac_hits = 0, ip_hits = 0;
    void* mac_data[RTE_HASH_LOOKUP_BULK_MAX];
    void* ip_data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(snap.l2.fdb.get(), mac_ptrs, passed, &mac_hits, mac_data);
    rte_hash_lookup_bulk_data(snap.routes.hosts.get(), ip_ptrs, passed, &ip_hits, ip_data);
    for (uint32_t k = 0; k < passed; ++k) {
      rte_mbuf* m = burst[pass[k]];
      PktMeta* md = meta(m);
      const uint64_t bit = uint64_t{1} << k;
      bool elsewhere = false;
      if (mac_hits & bit) {
        const FdbEntry e = fdb_entry(mac_data[k]);
        elsewhere = e.kind != FdbKind::kRouter && (e.kind != FdbKind::kRemote || e.value != vtep_of[k]);
      }
      if (!elsewhere && (ip_hits & bit)) {
        const HostEntry h = host_entry(ip_data[k]);
        elsewhere = h.kind != FdbKind::kRouter && (h.kind != FdbKind::kRemote || h.value != vtep_of[k]);
      }
      if (elsewhere) {
        drop(m, DropReason::vxlan_inner_src_spoofed);
        continue;
      }
      const uint16_t inner = md->inner.l2;
      rte_pktmbuf_adj(m, inner);
      md->outer = shifted(md->inner, inner);
      md->inner = FrameLayers{};
      send(m, VxlanDecapNext::kInner);
    }
  }
}

}  // namespace weft::dp
