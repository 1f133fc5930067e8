// How weftd starts the EAL for a config: hugepages or not, PCI or not.

#include <gtest/gtest.h>

#include <algorithm>

#include "common/yaml_doc.h"
#include "dataplane/weftd/eal_args.h"
#include "vnic/vnic.h"

namespace weft::dp {
namespace {

NodeConfig config(const std::string& extra = "", const std::string& device = "net_null0") {
  Diagnostics d;
  auto root = load_yaml_text("node: node-a\nunderlay: {device: \"" + device + "\", ip: 10.0.0.1/24}\n" + extra,
                             "n.yaml", d);
  auto cfg = parse_node_config(*root, "n.yaml", d);
  EXPECT_TRUE(cfg) << d.format();
  return *cfg;
}

bool has(const EalPlan& p, std::initializer_list<std::string> seq) {
  return std::search(p.args.begin(), p.args.end(), seq.begin(), seq.end()) != p.args.end();
}

constexpr HugepageInfo kPlenty{true, 1ull << 30};

// Any number of workers in either mode; on a small machine the main lcore
// may share the first CPU with a worker, and the EAL then maps lcore ids
// to the CPUs listed.
TEST(EalArgs, MainLcoreMayShareItsCpuWithAWorker) {
  const NodeConfig cfg = config("dpdk: {lcores: \"0,0-1\"}\n");
  EXPECT_EQ(cfg.workers(), 2u);
  EXPECT_TRUE(cfg.main_shares_cpu());
  EXPECT_EQ(cfg.worker_lcore(0), 1u);
  EXPECT_EQ(cfg.worker_lcore(1), 2u);
  const EalPlan p = plan_eal(cfg, kPlenty, {});
  EXPECT_TRUE(has(p, {"--lcores", "0@0,1@0,2@1"}));
  EXPECT_TRUE(has(p, {"--main-lcore", "0"}));
  EXPECT_FALSE(has(p, {"-l"}));

  const NodeConfig plain = config("dpdk: {lcores: \"3,1-2\"}\n");
  EXPECT_FALSE(plain.main_shares_cpu());
  EXPECT_EQ(plain.worker_lcore(1), 2u);

  // Only the main lcore's CPU may be shared, and only once.
  for (const char* twice : {"0,1,1", "0,0,0,1"}) {
    Diagnostics d;
    auto root = load_yaml_text(std::string("node: node-a\nunderlay: {device: net_null0, ip: 10.0.0.1/24}\n"
                                           "dpdk: {lcores: \"") + twice + "\"}\n", "n.yaml", d);
    EXPECT_FALSE(parse_node_config(*root, "n.yaml", d)) << twice;
    EXPECT_NE(d.format().find("is listed twice"), std::string::npos) << d.format();
  }
}

TEST(EalArgs, LcoresPrefixAndNoPci) {
  EalPlan p = plan_eal(config("dpdk: {lcores: \"1,0\"}\n"), kPlenty, {});
  EXPECT_TRUE(has(p, {"-l", "1,0"}));
  EXPECT_TRUE(has(p, {"--main-lcore", "1"}));
  EXPECT_TRUE(has(p, {"--file-prefix", "weft-node-a"}));
  EXPECT_TRUE(has(p, {"--no-pci"}));
  EXPECT_TRUE(p.hugepages);
  EXPECT_FALSE(has(p, {"--no-huge"}));
}

// dpdk-telemetry.py and weftd's /weft/* commands need the telemetry
// socket: nothing weftd passes turns it off, with or without hugepages
// (--in-memory would also hide the runtime directory it lives in).
TEST(EalArgs, TelemetryStaysOn) {
  for (const char* extra : {"", "dpdk: {hugepages: false}\n"}) {
    const EalPlan p = plan_eal(config(extra), kPlenty, {});
    EXPECT_FALSE(has(p, {"--no-telemetry"}));
    EXPECT_FALSE(has(p, {"--in-memory"}));
    EXPECT_FALSE(has(p, {"--no-shconf"}));
  }
}

TEST(EalArgs, FallsBackToOrdinaryMemory) {
  EalPlan off = plan_eal(config("dpdk: {hugepages: false, memory_mb: 768}\n"), kPlenty, {});
  EXPECT_FALSE(off.hugepages);
  EXPECT_TRUE(has(off, {"--no-huge", "-m", "768"}));
  EXPECT_NE(off.memory_note.find("dpdk.hugepages is false"), std::string::npos);

  EalPlan unmounted = plan_eal(config(), HugepageInfo{false, 1ull << 30}, {});
  EXPECT_FALSE(unmounted.hugepages);
  EXPECT_TRUE(has(unmounted, {"--no-huge", "-m", "1024"}));

  EalPlan few = plan_eal(config(), HugepageInfo{true, 4ull << 20}, {});
  EXPECT_FALSE(few.hugepages);
  EXPECT_NE(few.memory_note.find("only 4 MiB"), std::string::npos) << few.memory_note;
}

TEST(EalArgs, ConnectionTablesCountAgainstHugepages) {
  // 16M connections: over 1 GiB of table, more than kPlenty.
  EalPlan p = plan_eal(config("conntrack: {max_connections: 16777216}\n"), kPlenty, {});
  EXPECT_FALSE(p.hugepages);
  EXPECT_NE(p.memory_note.find("MiB wanted"), std::string::npos) << p.memory_note;
}

TEST(EalArgs, PciDevicesAreAllowListed) {
  EalPlan p = plan_eal(config("", "0000:3b:00.0"), kPlenty, {});
  EXPECT_FALSE(has(p, {"--no-pci"}));
  EXPECT_TRUE(has(p, {"-a", "0000:3b:00.0"}));
}

TEST(EalArgs, ExtraArgumentsGoLast) {
  const std::string extra[] = {"--log-level", "pmd.net.*:debug"};
  EalPlan p = plan_eal(config(), kPlenty, extra);
  EXPECT_EQ(p.args[p.args.size() - 2], "--log-level");
  EXPECT_EQ(p.args.back(), "pmd.net.*:debug");
}

TEST(EalArgs, PoolFitsEveryRing) {
  EXPECT_EQ(mbuf_count(config()), 16383u);
  std::string ports = "dpdk: {lcores: \"0-3\"}\nports:\n";
  for (int i = 0; i < 8; ++i) ports += "  p" + std::to_string(i) + ": {type: af_packet, iface: v" + std::to_string(i) + "}\n";
  const uint32_t n = mbuf_count(config(ports));
  EXPECT_GE(n, 9u * 3u * 2048u);
  EXPECT_EQ((n + 1) & n, 0u) << "2^k - 1";
  EXPECT_EQ(mbuf_count(config("dpdk: {mbufs: 5000}\n")), 5000u);
}

TEST(EalArgs, RecognisesPciAddresses) {
  EXPECT_TRUE(is_pci_devargs("0000:3b:00.0"));
  EXPECT_TRUE(is_pci_devargs("3b:00.1"));
  EXPECT_TRUE(is_pci_devargs("0000:3b:00.0,rx_queue_size=2048"));
  EXPECT_FALSE(is_pci_devargs("net_pcap0,rx_pcap=a:b.pcap"));
  EXPECT_FALSE(is_pci_devargs("net_af_packet0,iface=ul-a"));
  EXPECT_FALSE(is_pci_devargs("3b:00.8"));
}

}  // namespace
}  // namespace weft::dp
