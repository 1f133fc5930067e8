// main() for packet-test binaries: GoogleTest with the EAL environment.

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "dataplane/pipeline/mbuf_pool.h"
#include "tests/packet/eal_env.h"

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

class EalEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    // --in-memory cannot go with --no-huge (which implies legacy memory);
    // --no-shconf and a per-process prefix keep parallel test binaries
    // apart just as well.
    std::vector<std::string> args = {
        "weft-packet-test",
        "-l", std::to_string(first_allowed_cpu()),
        "--no-huge", "-m", "256",
        "--no-pci", "--no-shconf", "--file-prefix=weft-test-" + std::to_string(getpid()),
        "--no-telemetry", "--log-level=error",
    };
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0)
        << "rte_eal_init: " << rte_strerror(rte_errno);
    dp::MbufPoolConfig cfg;
    cfg.name = "weft_test_mbufs";
    cfg.mbufs = 8191;
    g_pool = dp::create_mbuf_pool(cfg);
    ASSERT_NE(g_pool, nullptr) << "create_mbuf_pool: " << rte_strerror(rte_errno);
  }

  void TearDown() override {
    rte_mempool_free(g_pool);
    g_pool = nullptr;
    // The EAL leaves its (empty, with --no-shconf) runtime directory behind.
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    rmdir(runtime_dir.c_str());
  }
};

}  // namespace

rte_mempool* packet_pool() { return g_pool; }

}  // namespace weft::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new weft::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
