#pragma once
// Sends an ARP request for an underlay neighbor: the resolution half of the
// underlay ARP (the learning half is UnderlayArpStage). Called by a stage
// that needs a neighbor's MAC (VxlanEncapStage) once NeighborTable::
// should_probe() has granted it the probe.
//
// The request is a new mbuf from StageCtx::pool, broadcast out the underlay
// port from the node's VTEP address, queued on kTx through
// StageCtx::pipeline. No free mbuf: no probe; the next one is due after the
// probe interval anyway.
//
// Worker lcores, from inside Stage::process.

#include <rte_ether.h>

#include <cstdint>

#include "dataplane/pipeline/stage.h"

namespace weft::dp {

// `tx`: the node that transmits on the underlay (the caller's edge to it).
void probe_neighbor(StageCtx& ctx, const Snapshot& snap, uint32_t target_ip, NodeId tx) noexcept;

// The request itself: "who has `target_ip`, tell `sender_ip`" (host
// order) from `mac`, in a new mbuf from StageCtx::pool with its metadata
// set to leave on `port`; null when no mbuf is free. For the gateway's
// external port too (gateway/external_out.h), which tags it first.
rte_mbuf* make_arp_request(StageCtx& ctx, uint16_t port, const rte_ether_addr& mac, uint32_t sender_ip,
                           uint32_t target_ip) noexcept;

}  // namespace weft::dp
