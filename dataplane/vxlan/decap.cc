#include "dataplane/vxlan/decap.h"

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <algorithm>

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
    // Whether the peer may send into the network is a run's verdict, not a
    // packet's: decided once per run.
    DropReason verdict[RTE_HASH_LOOKUP_BULK_MAX];
    for (uint32_t r = 0; r < runs; ++r) {
      const uint64_t bit = uint64_t{1} << r;
      if (!(known_vtep & bit)) verdict[r] = DropReason::vxlan_unknown_vtep;
      else if (!(known_vni & bit)) verdict[r] = DropReason::vxlan_unknown_vni;
      else if (!snap.l2.hosts(static_cast<uint16_t>(data_index(vtep_data[r])), data_index(network[r])))
        verdict[r] = DropReason::vxlan_vni_not_hosted;
      else verdict[r] = DropReason::kNone;
    }

    for (uint32_t k = 0; k < local; ++k) {
      rte_mbuf* m = burst[which[k]];
      PktMeta* md = meta(m);
      if (verdict[run[k]] != DropReason::kNone) {
        drop(m, verdict[run[k]]);
        continue;
      }
      const uint32_t net_index = data_index(network[run[k]]);
      const auto vtep = static_cast<uint16_t>(data_index(vtep_data[run[k]]));
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
      const uint16_t inner = md->inner.l2;
      rte_pktmbuf_adj(m, inner);
      md->outer = shifted(md->inner, inner);
      md->inner = FrameLayers{};
      md->src_vtep = vtep;
      send(m, VxlanDecapNext::kInner);
    }
  }
}

}  // namespace weft::dp
