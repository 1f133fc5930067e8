#pragma once
// The DPDK environment of a packet-test or benchmark binary: one EAL per
// process with one lcore and an mbuf pool, needing no hugepages, NIC or
// shared runtime state (--no-huge --no-pci --no-shconf, a per-process file
// prefix), so it runs anywhere and in parallel with other binaries, as
// DPDK's own NOHUGE_OK tests do.
//
// Packet-test binaries link `weft_packet_fixture`, whose main() (eal_main.cc)
// starts it before the first test through a GoogleTest Environment; tests
// then just call packet_pool(). Other binaries call start_test_eal() and
// stop_test_eal() from main(). All of it on the main thread (the EAL's one
// lcore).

#include <rte_mempool.h>

#include <string>

namespace weft::test {

// Starts the EAL and makes the pool; false (with the reason in *error) if
// either fails. Call once per process.
bool start_test_eal(const std::string& program, std::string* error);
void stop_test_eal();

// The pool made by create_mbuf_pool (PktMeta area reserved); null before
// start_test_eal() succeeds.
rte_mempool* packet_pool();

}  // namespace weft::test
