#include "dataplane/weftd/eal_args.h"

#include <sched.h>

#include <fstream>
#include <sstream>

#include <algorithm>
#include <bit>

#include "dataplane/conntrack/conn_table.h"
#include "dataplane/pipeline/mbuf_pool.h"
#include "dataplane/pipeline/meta.h"
#include "dataplane/pipeline/pipeline.h"
#include "vnic/vnic.h"

namespace weft::dp {
namespace {

// Hugepage memory a node needs beyond its mbufs: rings, hash tables, the
// EAL's own heap. Below this much free, ordinary memory is the safer bet.
constexpr uint64_t kHugepageHeadroom = 128ull << 20;
// Bytes of one mbuf in the pool: header, PktMeta, data room, mempool header.
constexpr uint64_t kMbufFootprint = sizeof(rte_mbuf) + kMetaPrivSize + RTE_MBUF_DEFAULT_BUF_SIZE + 64;

uint64_t read_number(const std::string& path) {
  std::ifstream in(path);
  uint64_t v = 0;
  in >> v;
  return v;
}

std::string join(const std::vector<unsigned>& v) {
  std::string s;
  for (unsigned x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

}  // namespace

uint32_t mbuf_count(const NodeConfig& cfg) {
  if (cfg.dpdk.mbufs != 0) return cfg.dpdk.mbufs;
  const uint32_t ports = static_cast<uint32_t>(cfg.ports.size() + 1);
  const uint32_t workers = cfg.workers();
  const uint32_t rings = ports * workers * (PortOptions::kDefaultRxDesc + PortOptions::kDefaultTxDesc);
  const uint32_t in_flight = workers * (MbufPoolConfig{}.cache + 2 * Pipeline::kNodeCapacity);
  const uint32_t need = std::max(rings + in_flight, MbufPoolConfig{}.mbufs);
  return std::bit_ceil(need + 1) - 1;  // 2^n - 1 suits the mempool's ring
}

HugepageInfo probe_hugepages() {
  HugepageInfo h;
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream f(line);
    std::string dev, dir, type;
    f >> dev >> dir >> type;
    if (type == "hugetlbfs") h.mounted = true;
  }
  // The default huge page size is the one hugetlbfs mounts without
  // pagesize= use; Meminfo names it.
  std::ifstream meminfo("/proc/meminfo");
  uint64_t page_kb = 0;
  while (std::getline(meminfo, line)) {
    if (line.rfind("Hugepagesize:", 0) == 0) {
      std::istringstream f(line.substr(13));
      f >> page_kb;
    }
  }
  if (page_kb != 0) {
    const std::string dir = "/sys/kernel/mm/hugepages/hugepages-" + std::to_string(page_kb) + "kB/";
    h.free_bytes = read_number(dir + "free_hugepages") * page_kb * 1024;
  }
  return h;
}

EalPlan plan_eal(const NodeConfig& cfg, const HugepageInfo& huge,
                 std::span<const std::string> extra) {
  EalPlan plan;
  auto& a = plan.args;
  if (cfg.main_shares_cpu()) {
    // lcore ids 0..n on the listed CPUs: the main lcore 0 and a worker
    // share the first CPU.
    std::string map;
    for (size_t i = 0; i < cfg.dpdk.lcores.size(); ++i)
      map += (i ? "," : "") + std::to_string(i) + "@" + std::to_string(cfg.dpdk.lcores[i]);
    a = {"weftd", "--lcores", map, "--main-lcore", "0"};
  } else {
    a = {"weftd", "-l", join(cfg.dpdk.lcores), "--main-lcore", std::to_string(cfg.dpdk.lcores.front())};
  }
  a.insert(a.end(), {"--file-prefix", "weft-" + cfg.node,
       // The EAL's start-up chatter is for debugging, not for operators.
       "--log-level", "lib.eal:notice"});

  // The mbufs, and each worker's connection table (graph.h), on hugepages.
  const uint64_t need = mbuf_count(cfg) * kMbufFootprint + kHugepageHeadroom +
                        uint64_t{cfg.workers()} * ConnTable::bytes_for(cfg.conntrack.max_connections);
  if (!cfg.dpdk.hugepages) {
    plan.memory_note = "dpdk.hugepages is false";
  } else if (!huge.mounted) {
    plan.memory_note = "no hugetlbfs is mounted";
  } else if (huge.free_bytes < need) {
    plan.memory_note = "only " + std::to_string(huge.free_bytes >> 20) + " MiB of hugepages are free, " +
                       std::to_string(need >> 20) + " MiB wanted";
  } else {
    plan.hugepages = true;
  }
  if (!plan.hugepages) {
    a.insert(a.end(), {"--no-huge", "-m", std::to_string(cfg.dpdk.memory_mb)});
  }

  std::vector<std::string> pci;
  if (is_pci_devargs(cfg.underlay.device)) pci.push_back(cfg.underlay.device);
  for (const PortConfig& p : cfg.ports)
    if (p.binding.kind == VnicKind::kDpdk && is_pci_devargs(p.binding.devargs)) pci.push_back(p.binding.devargs);
  if (pci.empty()) {
    a.push_back("--no-pci");
  } else {
    for (const std::string& d : pci) a.insert(a.end(), {"-a", d});
  }
  a.insert(a.end(), extra.begin(), extra.end());
  return plan;
}

void check_lcores_available(const NodeConfig& cfg, Diagnostics& diags) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;  // let the EAL judge
  std::vector<unsigned> cpus;
  for (unsigned c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  const std::string available = join(cpus);
  for (unsigned c : cfg.dpdk.lcores) {
    if (c >= CPU_SETSIZE || !CPU_ISSET(c, &set))
      diags.error(cfg.dpdk.lcores_pos, "dpdk.lcores: CPU " + std::to_string(c) +
                                           " is not available to this process (available: " + available + ")");
  }
}

}  // namespace weft::dp
