#pragma once
// What weftctl's offline trace forwards with: a node's snapshot built from
// its compiled tables alone, by the real builder (build_snapshot), with the
// port map a node.yaml binding every port of the node would give, and an
// EAL of weftctl's own to build and run it on.
//
// Offline, the underlay is taken to reach every peer: each peer VTEP is on
// the underlay's subnet and its MAC is known, so a trace shows what the
// policy does, not what a cable does. The underlay is DPDK port 0; the
// node's ports are 1, 2, ... by name.
//
// Main thread, after start_trace_eal().

#include <rte_mempool.h>

#include <memory>
#include <string>

#include "common/proto/tables.pb.h"
#include "dataplane/tables/snapshot.h"

namespace weft::dp {

// Starts an in-memory EAL (no hugepages, PCI or shared files) with an
// mbuf pool; null, with `error`, when it cannot. Once per process.
rte_mempool* start_trace_eal(std::string& error);

// Null, with `error`, when the tables cannot be built (more ports than
// DPDK ports, or what build_snapshot refuses).
std::unique_ptr<Snapshot> offline_snapshot(const proto::NodeTables& tables, std::string& error);

}  // namespace weft::dp
