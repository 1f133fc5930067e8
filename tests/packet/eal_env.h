#pragma once
// The DPDK environment of a packet-test binary: one EAL per process, brought
// up before the first test by a GoogleTest Environment (eal_main.cc, which
// also provides main) and torn down after the last. It needs no hugepages,
// NIC or shared runtime state (--no-huge --no-pci --no-shconf, a per-process
// file prefix), so packet tests run anywhere and in parallel, as DPDK's own
// NOHUGE_OK tests do.
//
// Link `weft_packet_fixture` (tests/packet/meson.build) and call
// `packet_pool()` from any test; tests run on the EAL's one (main) lcore.

#include <rte_mempool.h>

namespace weft::test {

// The binary's mbuf pool, made by create_mbuf_pool (PktMeta area reserved).
// Valid inside any TEST; null only if the EAL failed, which fails the run.
rte_mempool* packet_pool();

}  // namespace weft::test
