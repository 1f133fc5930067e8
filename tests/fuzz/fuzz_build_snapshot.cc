// libFuzzer target for the snapshot builder (dataplane/tables/
// snapshot_builder.h): tables from the controller are untrusted input
// (issue 17, item 9).
//
// Any bytes -> proto::NodeTables (ParseFromArray; bytes that are no
// NodeTables are what the agent refuses before the builder, and skipped)
// -> build_snapshot on a node like weftd's: an underlay port and eight
// vNICs, bound to the names of the input's first eight ports (so that the
// fuzzer reaches the per-port tables: vNICs, DHCP, security groups), the
// underlay address the input's own VTEP address (so that it gets past the
// identity check), and one neighbor table shared by every snapshot, as in
// weftd. Checks: the builder either refuses with a reason or returns
// tables that hold what the input listed; nothing it does crashes, reads
// out of bounds, leaks (ASan) or misbehaves (UBSan), and a refused input
// leaves the neighbor table's leases as they were, and so does freeing
// tables that were built.
//
// The builder allocates its tables from DPDK memory: the EAL is brought up
// once, in LLVMFuzzerInitialize, without hugepages, PCI or shared state.

#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/tables/snapshot_builder.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace weft;

constexpr uint16_t kUnderlayPort = 0;
constexpr uint16_t kVnics = 8;

std::shared_ptr<dp::NeighborTable> g_neighbors;

std::unique_ptr<dp::Snapshot> base_for(const proto::NodeTables& t) {
  auto s = std::make_unique<dp::Snapshot>();
  s->underlay_port = kUnderlayPort;
  s->ports[kUnderlayPort] = {dp::PortRole::kUnderlay, dp::VnicKind::kDpdk, "underlay"};
  for (uint16_t i = 0; i < kVnics && i < t.ports_size(); ++i)
    s->ports[1 + i] = {dp::PortRole::kVnic, dp::VnicKind::kAfPacket, t.ports(i).name()};
  s->ports[1 + kVnics] = {dp::PortRole::kVnic, dp::VnicKind::kAfPacket, "stray"};
  s->underlay.ip = t.vtep_ip();
  s->underlay.prefix_len = 24;
  s->underlay.next_hop = t.vtep_ip() ^ 0xfe;  // off-subnet peers get a route
  s->underlay.mac = {{0x02, 0xaa, 0, 0, 0, 1}};
  s->neighbors = g_neighbors;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  std::vector<std::string> args = {
      "fuzz_build_snapshot",
      "-l",
      "0",
      "--no-huge",
      "-m",
      "512",
      "--no-pci",
      "--no-shconf",
      "--file-prefix=fuzz-build-snapshot-" + std::to_string(getpid()),
      "--no-telemetry",
      "--log-level=error",
  };
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
    std::abort();
  }
  g_neighbors = std::make_shared<dp::NeighborTable>(1000, 1000000);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  proto::NodeTables in;
  if (!in.ParseFromArray(data, static_cast<int>(size))) return 0;
  const uint32_t leased_before = g_neighbors->size();
  std::string error;
  std::vector<std::string> warnings;
  auto snap = dp::build_snapshot(in, base_for(in), error, &warnings);
  if (!snap) {
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(g_neighbors->size() == leased_before);
    return 0;
  }
  FUZZ_CHECK(error.empty());
  FUZZ_CHECK(snap->networks.networks.size() == static_cast<size_t>(in.networks_size()));
  FUZZ_CHECK(snap->vteps.vteps.size() == static_cast<size_t>(in.peers_size()));
  FUZZ_CHECK(snap->l2.flood.size() == static_cast<size_t>(in.networks_size()));
  for (uint16_t port = 1; port <= kVnics + 1; ++port) {
    const dp::Vnic& vn = snap->vnics.by_port[port];
    if (!vn.in_policy) continue;
    FUZZ_CHECK(vn.network < snap->networks.networks.size());
    FUZZ_CHECK(snap->networks.networks[vn.network].vni == vn.vni);
  }
  for (const dp::FloodList& f : snap->l2.flood)
    for (uint16_t v : f.vteps) FUZZ_CHECK(v < snap->vteps.vteps.size());
  // Freeing the snapshot gives its neighbor slots back.
  snap.reset();
  FUZZ_CHECK(g_neighbors->size() == leased_before);
  return 0;
}
