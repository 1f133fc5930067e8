#include "tests/packet/eal_env.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <unistd.h>

#include <vector>

#include "dataplane/pipeline/mbuf_pool.h"

namespace weft::test {

namespace {

rte_mempool* g_pool = nullptr;

// The first CPU this process may run on: the EAL pins its main lcore there.
int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) return cpu;
  return 0;
}

}  // namespace

bool start_test_eal(const std::string& program, std::string* error) {
  // --in-memory cannot go with --no-huge (which implies legacy memory);
  // --no-shconf and a per-process prefix keep parallel binaries apart.
  std::vector<std::string> args = {
      program,
      "-l", std::to_string(first_allowed_cpu()),
      "--no-huge", "-m", "256",
      "--no-pci", "--no-shconf", "--file-prefix=" + program + "-" + std::to_string(getpid()),
      "--no-telemetry", "--log-level=error",
  };
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    *error = std::string("rte_eal_init: ") + rte_strerror(rte_errno);
    return false;
  }
  dp::MbufPoolConfig cfg;
  cfg.name = "weft_test_mbufs";
  cfg.mbufs = 8191;
  g_pool = dp::create_mbuf_pool(cfg);
  if (g_pool == nullptr) {
    *error = std::string("create_mbuf_pool: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

void stop_test_eal() {
  rte_mempool_free(g_pool);
  g_pool = nullptr;
  // The EAL leaves its (empty, with --no-shconf) runtime directory behind.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());
}

rte_mempool* packet_pool() { return g_pool; }

}  // namespace weft::test
