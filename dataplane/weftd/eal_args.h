#pragma once
// How weftd starts DPDK's EAL for a node config: lcores (first = main), a
// per-node --file-prefix so several weftd coexist on one machine, hugepages
// when configured and enough are free (else --no-huge -m MEMORY, ordinary
// memory), and --no-pci unless a PCI device is configured (then -a for each,
// so no other NIC is taken).
//
// Main thread, before rte_eal_init.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/diag.h"
#include "dataplane/config/node_config.h"

namespace weft::dp {

struct HugepageInfo {
  bool mounted = false;     // a hugetlbfs mount exists
  uint64_t free_bytes = 0;  // free pages of the default size, in bytes
};

// Mbufs in the node's pool: dpdk.mbufs, or enough to fill every rx and tx
// ring plus each worker's cache and a full pipeline in flight. Dataplane
// creates the pool with it; the hugepage check sizes memory from it.
uint32_t mbuf_count(const NodeConfig& cfg);

// Reads /proc/mounts and /sys/kernel/mm/hugepages.
HugepageInfo probe_hugepages();

struct EalPlan {
  std::vector<std::string> args;  // argv for rte_eal_init, argv[0] included
  bool hugepages = false;
  std::string memory_note;        // why hugepages are not used, when they are not
};

// `extra` are appended verbatim (weftd's arguments after `--`).
EalPlan plan_eal(const NodeConfig& cfg, const HugepageInfo& huge,
                 std::span<const std::string> extra);

// Every configured lcore must be a CPU this process may run on.
void check_lcores_available(const NodeConfig& cfg, Diagnostics& diags);

}  // namespace weft::dp
