#pragma once
// The node the overlay packet tests forward on, and a fixture that runs
// weftd's own policy-mode graph (build_worker_graph) over it.
//
// The policy (kOverlayPolicy) is compiled by the real loader and compiler
// for node-a, and the snapshot is built by the real build_snapshot:
//
//   node-a  172.31.0.1/24 (this node)   node-b 172.31.0.2 (on the underlay)
//   node-c  10.9.9.9 (off the underlay subnet: reached through a next hop,
//           or not at all)
//
//   network red  VNI 1001, MTU 1450, 10.0.1.0/24
//     red-1  node-a  port 1  10.0.1.10  02:00:00:00:01:0a
//            allowed 10.0.1.200, 192.168.7.0/24
//     red-2  node-a  port 2  10.0.1.12  02:00:00:00:01:0c
//     red-3  node-b          10.0.1.11  02:00:00:00:01:0b
//     red-4  node-c          10.0.1.13  02:00:00:00:01:0d
//     red-9  node-a  (bound to no vNIC)  10.0.1.19
//   network blue VNI 1002, MTU 1400, 10.0.1.0/24: the same addresses
//     blue-1 node-a  port 3  10.0.1.10  02:00:00:00:01:0a (red-1's IP and MAC)
//     blue-3 node-b          10.0.1.11  02:00:00:00:01:0b (red-3's IP and MAC)
//
//   DPDK port 0 is the underlay (MAC 02:aa:00:00:00:01); port 4 is a vNIC
//   that node.yaml binds as "stray", which the policy does not know.
//
// Test code; the EAL's main lcore.

#include <memory>
#include <string>
#include <vector>

#include "common/proto/tables.pb.h"
#include "dataplane/tables/snapshot.h"
#include "dataplane/weftd/graph.h"
#include "tests/packet/pipeline_fixture.h"

namespace weft::test {

inline constexpr uint16_t kUnderlayPort = 0;
inline constexpr uint16_t kRed1Port = 1;
inline constexpr uint16_t kRed2Port = 2;
inline constexpr uint16_t kBlue1Port = 3;
inline constexpr uint16_t kStrayPort = 4;
inline constexpr uint32_t kRedVni = 1001;
inline constexpr uint32_t kBlueVni = 1002;
inline constexpr uint32_t kRedMtu = 1450;
inline constexpr uint32_t kBlueMtu = 1400;

struct Addr {
  Mac mac;
  uint32_t ip;
};

// Addresses of the topology above.
struct Topo {
  static inline const Mac kUnderlayMac = mac("02:aa:00:00:00:01");
  static inline const Mac kNodeBMac = mac("02:bb:00:00:00:02");  // node-b's underlay port
  static inline const Mac kRouterMac = mac("02:cc:00:00:00:01");  // the next hop to node-c
  static inline const uint32_t kVtepA = ip4("172.31.0.1");
  static inline const uint32_t kVtepB = ip4("172.31.0.2");
  static inline const uint32_t kVtepC = ip4("10.9.9.9");
  static inline const uint32_t kNextHop = ip4("172.31.0.254");
  static inline const Addr kRed1{mac("02:00:00:00:01:0a"), ip4("10.0.1.10")};
  static inline const Addr kRed2{mac("02:00:00:00:01:0c"), ip4("10.0.1.12")};
  static inline const Addr kRed3{mac("02:00:00:00:01:0b"), ip4("10.0.1.11")};
  static inline const Addr kRed4{mac("02:00:00:00:01:0d"), ip4("10.0.1.13")};
  static inline const Addr kRed9{mac("02:00:00:00:01:19"), ip4("10.0.1.19")};
  static inline const Addr kBlue1 = kRed1;
  static inline const Addr kBlue3 = kRed3;
  static inline const Mac kBroadcast = mac("ff:ff:ff:ff:ff:ff");
};

extern const char* const kOverlayPolicy;

// The policy compiled for node-a.
proto::NodeTables overlay_tables();

// What Dataplane::make_snapshot would give on node-a: ports 0-4 as above,
// the underlay identity (with `next_hop`, 0 for none) and a NeighborTable
// on the test clock (probe interval kProbeInterval, reachable kReachable).
inline constexpr uint64_t kProbeInterval = 1000;
inline constexpr uint64_t kReachable = 1000000;
std::unique_ptr<dp::Snapshot> overlay_base(uint32_t next_hop = 0);

// Runs packets through weftd's policy-mode graph with node-a's snapshot.
class OverlayFixture : public PipelineFixture {
 protected:
  void SetUp() override;
  // Rebuilds the snapshot from `tables` (fails the test on an error).
  void use_tables(const proto::NodeTables& tables, uint32_t next_hop = 0);
  // Teaches the underlay ARP cache a neighbor's MAC, as an ARP reply would.
  void learn_neighbor(uint32_t ip, const Mac& mac);
  dp::Snapshot& snapshot() { return *snap_; }
  dp::WorkerGraph& graph() { return *graph_; }

 private:
  std::unique_ptr<dp::WorkerGraph> graph_;
  std::unique_ptr<dp::Snapshot> snap_;
};

// Frames a VM of the topology sends.
Frame vm_udp(const Addr& from, const Mac& dst, uint32_t dst_ip, size_t payload = 18);

// The VXLAN packet node `from_vtep` sends this node for `inner`, built from
// the inner frame's bytes as a peer would.
Bytes tunnel(uint32_t from_vtep, const Mac& from_mac, uint32_t vni, const Bytes& inner,
             uint16_t src_port = 50000, uint32_t to_vtep = Topo::kVtepA);

}  // namespace weft::test
