#include "tests/packet/flowcache_fixture.h"

#include <gtest/gtest.h>

#include <array>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"
#include "dataplane/tables/snapshot_builder.h"

namespace weft::test {

std::string sg_policy(const std::string& web_ports, const std::string& red3_node) {
  return R"(version: 1
nodes:
  - {name: node-a, underlay_ip: 172.31.0.1}
  - {name: node-b, underlay_ip: 172.31.0.2}
  - {name: node-d, underlay_ip: 172.31.0.3}
networks:
  - {name: red, vni: 1001, subnets: [{name: s, cidr: 10.0.1.0/24}]}
  - {name: blue, vni: 1002, mtu: 1400, subnets: [{name: s, cidr: 10.0.1.0/24}]}
ports:
  - {name: red-1, network: red, subnet: s, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a",
     security_groups: [web]}
  - {name: red-2, network: red, subnet: s, node: node-a, ip: 10.0.1.12, mac: "02:00:00:00:01:0c",
     security_groups: [db]}
  - {name: red-3, network: red, subnet: s, node: )" +
         red3_node + R"(, ip: 10.0.1.11, mac: "02:00:00:00:01:0b",
     security_groups: [web]}
  - {name: blue-1, network: blue, subnet: s, node: node-a, ip: 10.0.1.10, mac: "02:00:00:00:01:0a"}
  - {name: blue-3, network: blue, subnet: s, node: node-b, ip: 10.0.1.11, mac: "02:00:00:00:01:0b"}
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: ")" +
         web_ports + R"(", from: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: 8, from: 10.0.0.0/8}
    egress:
      - {protocol: tcp, ports: 5432, to_group: db}
      - {protocol: udp, ports: 53, to: 10.0.1.0/24}
  - name: db
    ingress:
      - {protocol: tcp, ports: 5432, from_group: web}
      - {protocol: udp, ports: 53, from: 0.0.0.0/0}
)";
}

void FlowCacheFixture::SetUp() {
  build_graph(4096);
  apply(sg_policy());
  at(1);
}

void FlowCacheFixture::TearDown() {
  PipelineFixture::TearDown();
  graph_.reset();
}

void FlowCacheFixture::build_graph(uint32_t max_connections) {
  dp::GraphOptions options;
  options.conntrack.max_entries = max_connections;
  options.conntrack.tsc_hz = kSec;  // `now` counts milliseconds
  options.conntrack.memory = dp::TableMemory::kHeap;
  const std::array<uint16_t, 5> ports = {kUnderlayPort, kRed1Port, kRed2Port, kBlue1Port,
                                         kStrayPort};
  std::string error;
  graph_ =
      dp::build_worker_graph(dp::ForwardingMode::kPolicy, kUnderlayPort, ports, options, &error);
  ASSERT_NE(graph_, nullptr) << error;
  for (size_t id = 0; id < dp::kNodeCount; ++id) {
    const auto node = static_cast<dp::NodeId>(id);
    if (dp::Stage* s = graph_->pipeline.stage(node)) set_stage(node, *s);
  }
}

void FlowCacheFixture::apply(const std::string& yaml) {
  Diagnostics diags;
  auto model = policy::load_policy_text(yaml, "sg.yaml", diags);
  ASSERT_TRUE(model.has_value()) << diags.format();
  apply_tables(policy::compile_node(*model, "node-a"));
}

void FlowCacheFixture::apply_tables(const proto::NodeTables& tables) {
  auto base = this->base();
  // One underlay (and external) ARP cache for every snapshot, as in weftd.
  if (snap_) {
    base->neighbors = snap_->neighbors;
    base->external_neighbors = snap_->external_neighbors;
  }
  std::string error;
  auto snap = dp::build_snapshot(tables, std::move(base), error);
  ASSERT_NE(snap, nullptr) << error;
  snap->generation = ++generation_;
  snap->policy_version = generation_;
  // Workers may still hold the old one in weftd; here it just stays alive.
  if (snap_) retired_.push_back(std::move(snap_));
  snap_ = std::move(snap);
  set_snapshot(snap_.get());
  at(now_);
}

void FlowCacheFixture::at(uint64_t ms) {
  now_ = ms;
  set_now(ms);
  for (const auto& [ip, m] :
       {std::pair{Topo::kVtepB, Topo::kNodeBMac}, std::pair{kVtepD, kNodeDMac}}) {
    const uint32_t slot = snap_->neighbors->find(ip);
    if (slot == dp::NeighborTable::kNone) continue;  // not a peer in this policy
    rte_ether_addr a;
    std::copy(m.begin(), m.end(), a.addr_bytes);
    snap_->neighbors->learn(slot, ip, a, ms);
  }
}

Outcome FlowCacheFixture::send(const Bytes& frame, uint16_t in_port) {
  clear();
  run(frame, {.in_port = in_port});
  return {sent(), total_drops() == 0 ? std::string() : drop_summary()};
}

Bytes tcp_frame(const Addr& from, const Addr& to, uint16_t sport, uint16_t dport, uint8_t flags,
                size_t payload) {
  Frame f;
  f.eth(from.mac, to.mac).ipv4(from.ip, to.ip).tcp(sport, dport, {.flags = flags});
  if (payload != 0) f.payload(payload);
  return f.bytes();
}

Bytes udp_frame(const Addr& from, const Addr& to, uint16_t sport, uint16_t dport) {
  return Frame().eth(from.mac, to.mac).ipv4(from.ip, to.ip).udp(sport, dport).payload(16).bytes();
}

Bytes icmp_frame(const Addr& from, const Addr& to, uint8_t type, uint8_t code, uint16_t id) {
  return Frame()
      .eth(from.mac, to.mac)
      .ipv4(from.ip, to.ip)
      .icmp(type, code, id, 1)
      .payload(16)
      .bytes();
}

Bytes from_node_b(const Bytes& inner, uint32_t vni) {
  return tunnel(Topo::kVtepB, Topo::kNodeBMac, vni, inner);
}

Bytes inner_of(const Captured& c) {
  constexpr size_t kOuter = 14 + 20 + 8 + 8;
  return c.bytes.size() > kOuter ? Bytes(c.bytes.begin() + kOuter, c.bytes.end()) : Bytes{};
}

}  // namespace weft::test
