#pragma once
// kVxlanDecap: tunnel packets from the underlay (the parser has found the
// VXLAN header and parsed the inner frame). A packet is accepted only when
//
//   the outer IPv4 destination is this node's VTEP      else vxlan_not_local
//   the outer source is a known node's VTEP (the
//     snapshot's peers: the VTEP allow-set)             else vxlan_unknown_vtep
//   its VNI is a network of this node                   else vxlan_unknown_vni
//   the sending peer hosts that network (L2Table::
//     members: its flood list or a port of it there)    else vxlan_vni_not_hosted
//   the inner frame fits the network's MTU              else vxlan_decap_mtu
//   the inner frame carries no VLAN tag                 else vxlan_inner_vlan
//   its source MAC is unicast                           else vxlan_inner_src_multicast
//
// so a forged tunnel packet from anywhere else is dropped and counted, a
// peer node injects only into the networks it hosts, and an oversized
// frame is never delivered (nor fragmented). An accepted packet loses its
// outer headers (rte_pktmbuf_adj: no copy), its metadata now describes the
// inner frame, PktMeta::vni keeps the VNI, PktMeta::src_vtep names the
// peer, and it goes on (kInner: the flow cache) for delivery to a local
// port; in_port stays the underlay, which is how L2 lookup and flood know
// never to send it back to a VTEP. Whether the peer may send as the inner
// source is checked after the flow cache, on a miss only
// (vxlan/tunnel_source.h): a hit is bound to the peer its walk checked.
//
// Source VTEPs and VNIs are looked up in bulk, once per run of packets
// with equal (source, VNI): a burst is nearly always one peer in one VNI.
//
// Runs on the worker that owns it; reads the snapshot only.

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

enum class VxlanDecapNext : uint8_t { kInner, kCount };

class VxlanDecapStage final : public StageWith<VxlanDecapNext> {
 public:
  VxlanDecapStage() noexcept : StageWith({"inner"}) {}

  std::string_view name() const override { return "vxlan_decap"; }
  void process(StageCtx& ctx, rte_mbuf** pkts, uint16_t n) noexcept override;
};

}  // namespace weft::dp
