#include "dataplane/trace/offline_node.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <vector>

#include "dataplane/pipeline/mbuf_pool.h"
#include "dataplane/tables/snapshot_builder.h"

namespace weft::dp {

rte_mempool* start_trace_eal(std::string& error) {
  // One lcore, ordinary memory and nothing shared: weftctl may run beside a
  // weftd, and beside another weftctl.
  std::vector<std::string> args = {"weftctl",   "-l",          "0",
                                   "--no-huge", "-m",          "128",
                                   "--no-pci",  "--no-shconf", "--file-prefix=weftctl-" + std::to_string(getpid()),
                                   "--no-telemetry", "--log-level=error"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    error = std::string("DPDK EAL: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  MbufPoolConfig cfg;
  cfg.name = "weft_trace_mbufs";
  cfg.mbufs = 1023;
  cfg.cache = 0;
  rte_mempool* pool = create_mbuf_pool(cfg);
  if (pool == nullptr) error = std::string("mbuf pool: ") + rte_strerror(rte_errno);
  return pool;
}

std::unique_ptr<Snapshot> offline_snapshot(const proto::NodeTables& tables, std::string& error) {
  auto snap = std::make_unique<Snapshot>();
  snap->underlay_port = 0;
  snap->ports[0] = {PortRole::kUnderlay, VnicKind::kDpdk, "underlay"};
  uint16_t next = 1;
  for (const proto::Port& p : tables.ports()) {
    if (next >= kMaxPorts) {
      error = "node " + tables.node() + " has more ports than a trace can bind (" + std::to_string(kMaxPorts - 1) + ")";
      return nullptr;
    }
    snap->ports[next++] = {PortRole::kVnic, VnicKind::kAfPacket, p.name()};
  }
  snap->underlay.ip = tables.vtep_ip();
  snap->underlay.prefix_len = 0;  // every peer on-link
  snap->underlay.mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  snap = build_snapshot(tables, std::move(snap), error);
  if (!snap) return nullptr;
  snap->policy_version = 1;
  snap->generation = 1;
  snap->compiled = std::make_shared<const proto::NodeTables>(tables);
  const uint64_t now = rte_rdtsc();
  for (const Vtep& v : snap->vteps.vteps) {
    const rte_ether_addr mac = {{0x02, 0x00, static_cast<uint8_t>(v.ip >> 24), static_cast<uint8_t>(v.ip >> 16),
                                 static_cast<uint8_t>(v.ip >> 8), static_cast<uint8_t>(v.ip)}};
    snap->neighbors->learn(v.neighbor, v.next_hop, mac, now);
  }
  return snap;
}

}  // namespace weft::dp
