#include "tests/packet/overlay_topology.h"

#include <gtest/gtest.h>
#include <rte_ether.h>

#include <array>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/pipeline/wire.h"
#include "dataplane/tables/snapshot_builder.h"

namespace weft::test {

const char* const kOverlayPolicy = R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
  - {name: node-c, underlay_ip: 10.9.9.9}
networks:
  - name: red
    vni: 1001
    subnets: [{name: s, cidr: 10.0.1.0/24}]
  - name: blue
    vni: 1002
    mtu: 1400
    subnets: [{name: s, cidr: 10.0.1.0/24}]
# Security groups are not what these tests are about: every port admits all.
security_groups:
  - {name: open, ingress: [{protocol: any, from: 0.0.0.0/0}]}
ports:
  - {name: red-1, network: red, subnet: s, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a",
     allowed_addresses: [10.0.1.200, 192.168.7.0/24], security_groups: [open]}
  - {name: red-2, network: red, subnet: s, node: node-a, ip: 10.0.1.12, mac: "02:00:00:00:01:0c", security_groups: [open]}
  - {name: red-3, network: red, subnet: s, node: node-b, ip: 10.0.1.11, mac: "02:00:00:00:01:0b", security_groups: [open]}
  - {name: red-4, network: red, subnet: s, node: node-c, ip: 10.0.1.13, mac: "02:00:00:00:01:0d", security_groups: [open]}
  - {name: red-9, network: red, subnet: s, node: node-a, ip: 10.0.1.19, mac: "02:00:00:00:01:19", security_groups: [open]}
  - {name: blue-1, network: blue, subnet: s, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a", security_groups: [open]}
  - {name: blue-3, network: blue, subnet: s, node: node-b, ip: 10.0.1.11, mac: "02:00:00:00:01:0b", security_groups: [open]}
)";

proto::NodeTables overlay_tables() {
  Diagnostics diags;
  auto model = policy::load_policy_text(kOverlayPolicy, "overlay.yaml", diags);
  EXPECT_TRUE(model.has_value()) << diags.format();
  if (!model) return {};
  return policy::compile_node(*model, "node-a");
}

std::unique_ptr<dp::Snapshot> overlay_base(uint32_t next_hop) {
  auto s = std::make_unique<dp::Snapshot>();
  s->underlay_port = kUnderlayPort;
  s->ports[kUnderlayPort] = {dp::PortRole::kUnderlay, dp::VnicKind::kDpdk, "underlay"};
  const std::array<std::pair<uint16_t, const char*>, 4> vnics = {
      {{kRed1Port, "red-1"}, {kRed2Port, "red-2"}, {kBlue1Port, "blue-1"}, {kStrayPort, "stray"}}};
  for (const auto& [port, name] : vnics) s->ports[port] = {dp::PortRole::kVnic, dp::VnicKind::kAfPacket, name};
  s->underlay.ip = Topo::kVtepA;
  s->underlay.prefix_len = 24;
  s->underlay.next_hop = next_hop;
  std::copy(Topo::kUnderlayMac.begin(), Topo::kUnderlayMac.end(), s->underlay.mac.addr_bytes);
  s->neighbors = std::make_shared<dp::NeighborTable>(kProbeInterval, kReachable);
  return s;
}

void OverlayFixture::SetUp() {
  const std::array<uint16_t, 5> ports = {kUnderlayPort, kRed1Port, kRed2Port, kBlue1Port, kStrayPort};
  graph_ = dp::build_worker_graph(dp::ForwardingMode::kPolicy, kUnderlayPort, ports);
  for (size_t id = 0; id < dp::kNodeCount; ++id) {
    const auto node = static_cast<dp::NodeId>(id);
    if (dp::Stage* s = graph_->pipeline.stage(node)) set_stage(node, *s);
  }
  use_tables(overlay_tables());
}

void OverlayFixture::use_tables(const proto::NodeTables& tables, uint32_t next_hop) {
  std::string error;
  snap_ = dp::build_snapshot(tables, overlay_base(next_hop), error);
  ASSERT_NE(snap_, nullptr) << error;
  snap_->policy_version = 1;
  set_snapshot(snap_.get());
}

void OverlayFixture::learn_neighbor(uint32_t ip, const Mac& mac) {
  const uint32_t slot = snap_->neighbors->find(ip);
  ASSERT_NE(slot, dp::NeighborTable::kNone) << "not a tracked neighbor";
  rte_ether_addr a;
  std::copy(mac.begin(), mac.end(), a.addr_bytes);
  snap_->neighbors->learn(slot, ip, a, 0);
}

Frame vm_udp(const Addr& from, const Mac& dst, uint32_t dst_ip, size_t payload) {
  Frame f;
  f.eth(from.mac, dst).ipv4(from.ip, dst_ip).udp(40000, 5000).payload(payload);
  return f;
}

Bytes tunnel(uint32_t from_vtep, const Mac& from_mac, uint32_t vni, const Bytes& inner,
             uint16_t src_port, uint32_t to_vtep) {
  return Frame()
      .eth(from_mac, Topo::kUnderlayMac)
      .ipv4(from_vtep, to_vtep, {.dont_fragment = true})
      .udp(src_port, dp::kVxlanPort, {.checksum = 0})
      .vxlan(vni)
      .payload(inner)
      .bytes();
}

}  // namespace weft::test
