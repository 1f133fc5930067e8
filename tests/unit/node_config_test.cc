// node.yaml loading: every value read, every default named, every mistake
// refused with a message that names the key at its position.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/yaml_doc.h"
#include "dataplane/config/node_config.h"

namespace weft::dp {
namespace {

struct Loaded {
  std::optional<NodeConfig> cfg;
  Diagnostics diags;
  std::string text() const { return diags.format(); }
};

Loaded load(const std::string& yaml) {
  Loaded r;
  auto root = load_yaml_text(yaml, "node.yaml", r.diags);
  if (root) r.cfg = parse_node_config(*root, "node.yaml", r.diags);
  return r;
}

constexpr const char* kMinimal =
    "node: node-a\n"
    "underlay: {device: \"net_af_packet0,iface=ul-a\", ip: 172.31.0.1/24}\n";

// Expects exactly one error, containing `what`, at line:column.
void expect_one_error(const std::string& yaml, const std::string& what, int line, int column) {
  Loaded r = load(yaml);
  EXPECT_FALSE(r.cfg) << yaml;
  ASSERT_EQ(r.diags.size(), 1u) << r.text();
  const Diagnostic& d = r.diags.items()[0];
  EXPECT_NE(d.message.find(what), std::string::npos) << r.text();
  EXPECT_EQ(d.pos.file, "node.yaml");
  EXPECT_EQ(d.pos.line, line) << r.text();
  EXPECT_EQ(d.pos.column, column) << r.text();
}

TEST(NodeConfig, ReadsTheSpecExample) {
  Loaded r = load(
      "node: node-a\n"
      "controller: {address: 127.0.0.1:6653, ca: ca.pem, cert: node-a.pem, key: node-a.key}\n"
      "underlay:\n"
      "  device: \"net_af_packet0,iface=ul-a\"\n"
      "  ip: 172.31.0.1/24\n"
      "  next_hop: 172.31.0.254\n"
      "ports:\n"
      "  web-1: {type: af_packet, iface: vm-web1}\n"
      "  web-2: {type: vhost_user, socket: /run/weft/web-2.sock}\n"
      "  web-3: {type: af_xdp, iface: vm-web3}\n"
      "  bench: {type: dpdk, devargs: \"net_null0,no-rx=1\"}\n"
      "dpdk: {lcores: \"0,1\", hugepages: true}\n"
      "control_socket: /run/weft/node-a.sock\n");
  ASSERT_TRUE(r.cfg) << r.text();
  const NodeConfig& c = *r.cfg;
  EXPECT_EQ(c.node, "node-a");
  ASSERT_TRUE(c.controller);
  EXPECT_EQ(c.controller->host, "127.0.0.1");
  EXPECT_EQ(c.controller->port, 6653);
  EXPECT_EQ(c.controller->key, "node-a.key");
  EXPECT_EQ(c.underlay.device, "net_af_packet0,iface=ul-a");
  EXPECT_EQ(c.underlay.ip, *parse_ipv4_prefix("172.31.0.1/24"));
  EXPECT_EQ(c.underlay.next_hop, parse_ipv4("172.31.0.254"));
  ASSERT_EQ(c.ports.size(), 4u);  // in file order: DPDK port ids follow it
  EXPECT_EQ(c.ports[0].name, "web-1");
  EXPECT_EQ(c.ports[0].binding.kind, VnicKind::kAfPacket);
  EXPECT_EQ(c.ports[0].binding.iface, "vm-web1");
  EXPECT_EQ(c.ports[1].binding.kind, VnicKind::kVhostUser);
  EXPECT_EQ(c.ports[1].binding.socket, "/run/weft/web-2.sock");
  EXPECT_FALSE(c.ports[1].binding.client);
  EXPECT_EQ(c.ports[2].binding.kind, VnicKind::kAfXdp);
  EXPECT_EQ(c.ports[3].binding.kind, VnicKind::kDpdk);
  EXPECT_EQ(c.ports[3].binding.devargs, "net_null0,no-rx=1");
  EXPECT_EQ(c.dpdk.lcores, (std::vector<unsigned>{0, 1}));
  EXPECT_TRUE(c.dpdk.hugepages);
  EXPECT_EQ(c.workers(), 1u);
  EXPECT_EQ(c.control_socket, "/run/weft/node-a.sock");
}

TEST(NodeConfig, DefaultsAreNamed) {
  Loaded r = load(kMinimal);
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_FALSE(r.cfg->controller);
  EXPECT_TRUE(r.cfg->ports.empty());
  EXPECT_FALSE(r.cfg->underlay.next_hop);
  EXPECT_EQ(r.cfg->dpdk.lcores, (std::vector<unsigned>{0, 1}));
  EXPECT_TRUE(r.cfg->dpdk.hugepages);
  EXPECT_EQ(r.cfg->dpdk.memory_mb, DpdkConfig::kDefaultMemoryMb);
  EXPECT_EQ(r.cfg->dpdk.mbufs, 0u);
  EXPECT_EQ(r.cfg->control_socket, "/run/weft/node-a.sock");
}

TEST(NodeConfig, LcoreListsAndRanges) {
  Loaded r = load(std::string(kMinimal) + "dpdk: {lcores: \"3,0-1\", hugepages: false, memory_mb: 512, mbufs: 8191}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->dpdk.lcores, (std::vector<unsigned>{3, 0, 1}));
  EXPECT_EQ(r.cfg->workers(), 2u);
  EXPECT_FALSE(r.cfg->dpdk.hugepages);
  EXPECT_EQ(r.cfg->dpdk.memory_mb, 512u);
  EXPECT_EQ(r.cfg->dpdk.mbufs, 8191u);
}

TEST(NodeConfig, VhostClientMode) {
  Loaded r = load(std::string(kMinimal) + "ports:\n  vm-1: {type: vhost_user, socket: /tmp/vm1.sock, client: true}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_TRUE(r.cfg->ports[0].binding.client);
}

TEST(NodeConfig, MissingKeys) {
  expect_one_error("underlay: {device: d, ip: 10.0.0.1/24}\n", "missing key 'node' in node config", 1, 1);
  expect_one_error("node: a\n", "missing key 'underlay'", 1, 1);
  expect_one_error("node: a\nunderlay: {device: d}\n", "missing key 'ip' in underlay", 2, 11);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_packet}\n",
                   "missing key 'iface' in ports.web-1", 4, 10);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: vhost_user}\n",
                   "missing key 'socket' in ports.web-1", 4, 10);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: dpdk}\n",
                   "missing key 'devargs' in ports.web-1", 4, 10);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {iface: x}\n",
                   "missing key 'type' in ports.web-1", 4, 10);
  expect_one_error(std::string(kMinimal) + "controller: {address: \"h:1\", ca: a, cert: b}\n",
                   "missing key 'key' in controller", 3, 13);
}

TEST(NodeConfig, UnknownKeysSuggestTheRightOne) {
  expect_one_error(std::string(kMinimal) + "control_sockt: /tmp/x.sock\n",
                   "unknown key 'control_sockt' in node config; did you mean 'control_socket'?", 3, 1);
  Loaded typo = load("node: a\nundrlay: {device: d, ip: 10.0.0.1/24}\n");
  EXPECT_EQ(typo.text(),
            "node.yaml:2:1: error: unknown key 'undrlay' in node config; did you mean 'underlay'?\n"
            "node.yaml:1:1: error: missing key 'underlay' in node config\n");
  expect_one_error("node: a\nunderlay: {device: d, ip: 10.0.0.1/24, nexthop: 10.0.0.2}\n",
                   "unknown key 'nexthop' in underlay; did you mean 'next_hop'?", 2, 40);
  expect_one_error(std::string(kMinimal) + "dpdk: {lcore: \"0,1\"}\n", "did you mean 'lcores'?", 3, 8);
  // A key that belongs to another port type.
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_packet, iface: v1, socket: /x}\n",
                   "unknown key 'socket' in ports.web-1", 4, 39);
}

TEST(NodeConfig, KeyTwice) {
  expect_one_error(std::string(kMinimal) + "node: b\n", "key 'node' appears twice in node config", 3, 1);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_packet, iface: a}\n  web-1: {type: af_packet, iface: b}\n",
                   "ports.web-1: port bound twice", 5, 3);
}

TEST(NodeConfig, BadAddresses) {
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.300/24}\n",
                   "underlay.ip: '172.31.0.300/24' is not an IPv4 address with a prefix length", 2, 27);
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.1}\n", "underlay.ip: '172.31.0.1' is not", 2, 27);
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.0/24}\n", "network or broadcast address", 2, 27);
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.1/24, next_hop: 172.31.1.1}\n",
                   "underlay.next_hop: 172.31.1.1 is not inside the underlay subnet 172.31.0.0/24", 2, 52);
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.1/24, next_hop: gateway}\n",
                   "underlay.next_hop: 'gateway' is not an IPv4 address", 2, 52);
  expect_one_error(std::string(kMinimal) + "controller: {address: localhost, ca: a, cert: b, key: c}\n",
                   "controller.address: 'localhost' is not HOST:PORT", 3, 23);
  expect_one_error(std::string(kMinimal) + "controller: {address: \"h:70000\", ca: a, cert: b, key: c}\n",
                   "is not HOST:PORT", 3, 23);
}

TEST(NodeConfig, BadPortType) {
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_pakcet, iface: v1}\n",
                   "ports.web-1.type: unknown port type 'af_pakcet' (af_packet, af_xdp, vhost_user or dpdk); "
                   "did you mean 'af_packet'?", 4, 17);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: tap, iface: v1}\n", "unknown port type 'tap'", 4, 17);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: af_packet\n", "ports.web-1: must be a mapping", 4, 10);
}

TEST(NodeConfig, BadNames) {
  expect_one_error("node: Node_A\nunderlay: {device: d, ip: 10.0.0.1/24}\n", "node: 'Node_A' is not a valid node name", 1, 7);
  expect_one_error(std::string(kMinimal) + "ports:\n  Web_1: {type: af_packet, iface: v1}\n",
                   "ports.Web_1: not a valid port name", 4, 3);
}

TEST(NodeConfig, InterfaceAndSocketNamesCannotInjectDevargs) {
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_packet, iface: \"v1,qpairs=8\"}\n",
                   "ports.web-1.iface: 'v1,qpairs=8' is not a Linux interface name", 4, 35);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: af_xdp, iface: a-very-long-interface}\n",
                   "is not a Linux interface name", 4, 32);
  expect_one_error(std::string(kMinimal) + "ports:\n  web-1: {type: vhost_user, socket: \"/tmp/a,client=1\"}\n",
                   "ports.web-1.socket: '/tmp/a,client=1' is not a usable unix socket path", 4, 37);
}

TEST(NodeConfig, OneDevicePerPort) {
  expect_one_error(std::string(kMinimal) +
                       "ports:\n  web-1: {type: af_packet, iface: v1}\n  web-2: {type: af_xdp, iface: v1}\n",
                   "ports.web-2: interface v1 is already used by ports.web-1", 5, 10);
  expect_one_error(std::string(kMinimal) + "ports:\n  ul: {type: dpdk, devargs: \"net_af_packet0,iface=x\"}\n",
                   "ports.ul: device net_af_packet0 is already used by underlay", 4, 7);
}

TEST(NodeConfig, NoMorePortsThanDpdkHas) {
  std::string yaml = std::string(kMinimal) + "ports:\n";
  for (int i = 0; i < 32; ++i) yaml += "  p" + std::to_string(i) + ": {type: af_packet, iface: v" + std::to_string(i) + "}\n";
  Loaded r = load(yaml);
  EXPECT_FALSE(r.cfg);
  EXPECT_NE(r.text().find("32 bindings plus the underlay exceed DPDK's 32 ports"), std::string::npos) << r.text();
}

TEST(NodeConfig, BadDpdkSettings) {
  expect_one_error(std::string(kMinimal) + "dpdk: {lcores: \"0\"}\n", "dpdk.lcores: needs at least two CPUs", 3, 16);
  expect_one_error(std::string(kMinimal) + "dpdk: {lcores: \"0,1,1\"}\n", "dpdk.lcores: CPU 1 is listed twice", 3, 16);
  expect_one_error(std::string(kMinimal) + "dpdk: {lcores: \"0,x\"}\n", "dpdk.lcores: 'x' is not a CPU number or range", 3, 16);
  expect_one_error(std::string(kMinimal) + "dpdk: {lcores: \"2-1\"}\n", "'2-1' is not a CPU number or range", 3, 16);
  expect_one_error(std::string(kMinimal) + "dpdk: {lcores: \"0,4096\"}\n", "beyond DPDK's limit", 3, 16);
  expect_one_error(std::string(kMinimal) + "dpdk: {hugepages: maybe}\n", "dpdk.hugepages: must be true or false", 3, 19);
  expect_one_error(std::string(kMinimal) + "dpdk: {memory_mb: lots}\n", "dpdk.memory_mb: must be a whole number", 3, 19);
  expect_one_error(std::string(kMinimal) + "dpdk: {memory_mb: 16}\n", "from 256 to", 3, 19);
  expect_one_error(std::string(kMinimal) + "dpdk: [0, 1]\n", "dpdk must be a mapping", 3, 7);
}

TEST(NodeConfig, ConntrackSize) {
  Loaded r = load(std::string(kMinimal) + "conntrack: {max_connections: 1048576}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->conntrack.max_connections, 1048576u);
  EXPECT_EQ(load(kMinimal).cfg->conntrack.max_connections, ConntrackConfig::kDefaultMaxConnections);
  expect_one_error(std::string(kMinimal) + "conntrack: {max_connections: 10}\n", "conntrack.max_connections", 3, 30);
  expect_one_error(std::string(kMinimal) + "conntrack: {max_conections: 2048}\n", "max_connections", 3, 13);
}

TEST(NodeConfig, ControlSocketGroup) {
  EXPECT_FALSE(load(kMinimal).cfg->control_socket_gid) << "default: the owner's group";
  Loaded r = load(std::string(kMinimal) + "control_socket_group: root\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->control_socket_gid, gid_t{0});
  r = load(std::string(kMinimal) + "control_socket_group: 4242\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->control_socket_gid, gid_t{4242});
  expect_one_error(std::string(kMinimal) + "control_socket_group: no-such-group-here\n",
                   "no group 'no-such-group-here'", 3, 23);
}

TEST(NodeConfig, PortSecurityBroadcastLimit) {
  Loaded r = load(std::string(kMinimal) + "port_security: {broadcast_rate: 0, broadcast_burst: 8}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->port_security.broadcast_rate, 0u);
  EXPECT_EQ(r.cfg->port_security.broadcast_burst, 8u);
  EXPECT_EQ(load(kMinimal).cfg->port_security.broadcast_rate, PortSecurityConfig::kDefaultBroadcastRate);
  EXPECT_EQ(load(kMinimal).cfg->port_security.broadcast_burst, PortSecurityConfig::kDefaultBroadcastBurst);
  expect_one_error(std::string(kMinimal) + "port_security: {broadcast_burst: 0}\n", "port_security.broadcast_burst", 3, 34);
  expect_one_error(std::string(kMinimal) + "port_security: {broadcast: 5}\n", "broadcast", 3, 17);
}

TEST(NodeConfig, QosMode) {
  EXPECT_TRUE(load(kMinimal).cfg->qos.shape);
  Loaded r = load(std::string(kMinimal) + "qos: {mode: police}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_FALSE(r.cfg->qos.shape);
  EXPECT_TRUE(load(std::string(kMinimal) + "qos: {mode: shape}\n").cfg->qos.shape);
  expect_one_error(std::string(kMinimal) + "qos: {mode: meter}\n", "'meter' is neither 'shape' nor 'police'", 3, 13);
  expect_one_error(std::string(kMinimal) + "qos: {shaping: true}\n", "shaping", 3, 7);
}

TEST(NodeConfig, WrongTypes) {
  expect_one_error("node: [a, b]\nunderlay: {device: d, ip: 10.0.0.1/24}\n", "node: must be a non-empty string", 1, 7);
  expect_one_error("node: a\nunderlay: {device: {x: 1}, ip: 10.0.0.1/24}\n", "underlay.device: must be a non-empty string", 2, 20);
  expect_one_error(std::string(kMinimal) + "ports: [a, b]\n", "ports: must be a mapping of port name to binding", 3, 8);
  expect_one_error("- just\n- a list\n", "node config must be a mapping", 1, 1);
}

TEST(NodeConfig, EveryProblemIsReported) {
  Loaded r = load(
      "node: a\n"
      "underlay: {device: d, ip: 1.2.3.4}\n"
      "ports:\n"
      "  p1: {type: af_packet}\n"
      "  p2: {type: nope, iface: x}\n"
      "dpdk: {lcores: \"0\"}\n"
      "extra: 1\n");
  EXPECT_FALSE(r.cfg);
  EXPECT_EQ(r.diags.size(), 5u) << r.text();
}

TEST(NodeConfig, FileErrorsAreFormattedWithPositions) {
  const std::string path = ::testing::TempDir() + "weft_node_config_test.yaml";
  {
    std::ofstream out(path);
    out << "node: a\nunderlay: {device: d, ip: 1.2.3.4/33}\n";
  }
  Diagnostics d;
  EXPECT_FALSE(load_node_config(path, d));
  EXPECT_EQ(d.format(), path + ":2:27: error: underlay.ip: '1.2.3.4/33' is not an IPv4 address with a prefix length (a.b.c.d/len)\n");

  Diagnostics missing;
  EXPECT_FALSE(load_node_config(path + ".absent", missing));
  EXPECT_EQ(missing.size(), 1u);

  {
    std::ofstream out(path);
    out << "node: a\nunderlay: {device: d, ip: [\n";
  }
  Diagnostics syntax;
  EXPECT_FALSE(load_node_config(path, syntax));
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_GT(syntax.items()[0].pos.line, 0);
}

}  // namespace
}  // namespace weft::dp

namespace weft::dp {
namespace {

TEST(NodeConfig, MetricsListen) {
  EXPECT_FALSE(load(kMinimal).cfg->metrics);  // default: no /metrics
  Loaded r = load(std::string(kMinimal) + "metrics: {listen: 127.0.0.1:9464}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  ASSERT_TRUE(r.cfg->metrics);
  EXPECT_EQ(r.cfg->metrics->address, "127.0.0.1");
  EXPECT_EQ(r.cfg->metrics->port, 9464);
  r = load(std::string(kMinimal) + "metrics:\n  listen: \"[::1]:0\"\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->metrics->address, "::1");
  EXPECT_EQ(r.cfg->metrics->port, 0);  // any free port
}

TEST(NodeConfig, MetricsMistakesArePositioned) {
  const std::string m = std::string(kMinimal) + "metrics: ";
  expect_one_error(m + "{listen: 127.0.0.1}\n", "metrics.listen: '127.0.0.1': expected HOST:PORT", 3, 19);
  expect_one_error(m + "{listen: 127.0.0.1:99999}\n", "metrics.listen: '127.0.0.1:99999': port must be", 3,
                   19);
  expect_one_error(m + "{listen: metrics.example:9464}\n", "'metrics.example' is not an IP address", 3, 19);
  expect_one_error(m + "{listen: \"\"}\n", "metrics.listen: must be a non-empty string", 3, 19);
  // A misspelt key is also a missing one: both are said, each at its place.
  Loaded typo = load(m + "{lisen: 127.0.0.1:9464}\n");
  EXPECT_FALSE(typo.cfg);
  EXPECT_EQ(typo.text(),
            "node.yaml:3:11: error: unknown key 'lisen' in metrics; did you mean 'listen'?\n"
            "node.yaml:3:10: error: missing key 'listen' in metrics\n");
  expect_one_error(m + "{}\n", "missing key 'listen' in metrics", 3, 10);
  expect_one_error(m + "127.0.0.1:9464\n", "metrics", 3, 10);
}

TEST(NodeConfig, UplinkXdpProgram) {
  Loaded r = load(
      "node: a\n"
      "underlay: {device: \"net_af_xdp0,iface=eth1\", ip: 172.31.0.1/24, xdp_program: /opt/weft_uplink.bpf.o}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  EXPECT_EQ(r.cfg->underlay.xdp_program, "/opt/weft_uplink.bpf.o");
  EXPECT_TRUE(load(kMinimal).cfg->underlay.xdp_program.empty());
  expect_one_error("node: a\nunderlay: {device: d, ip: 172.31.0.1/24, xdp_program: \"\"}\n",
                   "underlay.xdp_program: must be a non-empty string", 2, 55);
}

}  // namespace
TEST(NodeConfig, External) {
  Loaded r = load(std::string(kMinimal) +
                  "external: {device: \"net_af_packet9,iface=ext0\", vlan: 100, snat_ports: \"2000-2999\"}\n");
  ASSERT_TRUE(r.cfg) << r.text();
  ASSERT_TRUE(r.cfg->external);
  EXPECT_EQ(r.cfg->external->device, "net_af_packet9,iface=ext0");
  EXPECT_EQ(r.cfg->external->vlan, 100);
  EXPECT_EQ(r.cfg->external->snat_lo, 2000);
  EXPECT_EQ(r.cfg->external->snat_hi, 2999);

  Loaded plain = load(std::string(kMinimal) + "external: {device: x}\n");
  ASSERT_TRUE(plain.cfg && plain.cfg->external) << plain.text();
  EXPECT_EQ(plain.cfg->external->vlan, 0) << "untagged by default";
  EXPECT_EQ(plain.cfg->external->snat_lo, ExternalConfig::kDefaultSnatLo);
  EXPECT_EQ(plain.cfg->external->snat_hi, ExternalConfig::kDefaultSnatHi);
  EXPECT_FALSE(load(kMinimal).cfg->external) << "no external port unless bound";
}

TEST(NodeConfig, BadExternal) {
  expect_one_error(std::string(kMinimal) + "external: {vlan: 4}\n", "missing key 'device' in external", 3, 11);
  expect_one_error(std::string(kMinimal) + "external: {device: x, vlan: 4095}\n",
                   "external.vlan: must be a whole number from 1 to 4094", 3, 29);
  expect_one_error(std::string(kMinimal) + "external: {device: x, snat_ports: \"5000-4000\"}\n",
                   "external.snat_ports: '5000-4000' is not a port range", 3, 35);
  expect_one_error(std::string(kMinimal) + "external: {device: x, snat_ports: \"0-10\"}\n",
                   "is not a port range", 3, 35);
  expect_one_error(std::string(kMinimal) + "external: {device: \"net_af_packet0,iface=z\"}\n",
                   "external.device: device net_af_packet0 is already used by the underlay", 3, 11);
  expect_one_error(std::string(kMinimal) + "external: {device: x, vlna: 3}\n",
                   "unknown key 'vlna' in external; did you mean 'vlan'?", 3, 23);
}

}  // namespace weft::dp
