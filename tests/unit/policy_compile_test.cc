// The compiler's rules (control/compile): what each node receives, how
// references are resolved, determinism, nodes_touched() and the diff.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "control/compile/compile.h"
#include "control/compile/tables_codec.h"
#include "control/compile/tables_diff.h"
#include "control/model/loader.h"
#include "control/model/mac.h"
#include "control/model/validate.h"

namespace weft::policy {
namespace {

Model load(const std::string& yaml) {
  Diagnostics d;
  auto m = load_policy_text(yaml, "test.yaml", d);
  EXPECT_TRUE(m) << d.format();
  return m ? std::move(*m) : Model{};
}

uint32_t ip(const char* text) {
  return *parse_ipv4(text);
}
std::string named(const char* prefix, size_t i) {
  return std::string(prefix) + std::to_string(i);
}

// Three nodes; red has ports on a and b, blue on c and b; gateway edge on c
// serves red. Group web has members in both networks, at the same address.
const char* kPolicy = R"(
version: 1
nodes:
  - {name: a, underlay_ip: 10.255.0.1}
  - {name: b, underlay_ip: 10.255.0.2}
  - {name: c, underlay_ip: 10.255.0.3}
  - {name: idle, underlay_ip: 10.255.0.4}
networks:
  - name: red
    vni: 100
    subnets:
      - {name: pub, cidr: 10.0.1.0/24, public: true, dns: [10.0.0.53]}
      - {name: priv, cidr: 10.0.2.0/24, dhcp: false}
    routes:
      - {prefix: 192.168.0.0/16, next_hop: 10.0.2.20}
  - name: blue
    vni: 200
    mtu: 9000
    subnets:
      - {name: pub, cidr: 10.0.1.0/24}
ports:
  - {name: red-web, network: red, subnet: pub, node: a, ip: 10.0.1.10, security_groups: [web], qos: q}
  - {name: red-app, network: red, subnet: priv, node: b, ip: 10.0.2.20, security_groups: [app, open], allowed_addresses: [192.168.0.0/16, 192.168.1.0/24, 10.0.2.20]}
  - {name: red-bare, network: red, subnet: priv, node: a, ip: 10.0.2.30}
  - {name: blue-web, network: blue, subnet: pub, node: c, ip: 10.0.1.10, security_groups: [web]}
  - {name: blue-web-2, network: blue, subnet: pub, node: b, ip: 10.0.1.11, security_groups: [web]}
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: "443,80", from: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: 8, from_group: web}
    egress: []
  - name: app
    ingress:
      - {protocol: tcp, from_group: web}
      - {protocol: udp, ports: 53, from_group: nobody}
    egress:
      - {protocol: any, to: [10.0.0.0/8, 10.1.0.0/16]}
  - name: open
  - name: nobody
qos_policies:
  - name: q
    egress: {rate: 10mbit, burst: 32kb}
    classes:
      - {name: voice, match: {dscp: [46, 10, 46]}, priority: high}
load_balancers:
  - name: lb
    network: red
    vip: 10.0.1.100
    listeners: [{protocol: udp, port: 53}, {protocol: tcp, port: 80, target_port: 8080}]
    backends: [{port: red-web, weight: 3}, {port: red-app}]
    health_check: {protocol: tcp, interval: 1s, timeout: 200ms}
gateways:
  - name: edge
    node: c
    external_cidr: 203.0.113.0/24
    external_ip: 203.0.113.2
    external_next_hop: 203.0.113.1
    networks: [red]
    floating_ips: [{ip: 203.0.113.10, port: red-web}]
)";

class Compile : public testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Model(load(kPolicy)); }
  static void TearDownTestSuite() { delete model_; }
  static const Model& model() { return *model_; }

  static const proto::Network* network(const proto::NodeTables& t, const std::string& name) {
    for (const auto& n : t.networks())
      if (n.name() == name) return &n;
    return nullptr;
  }
  static const proto::Port* port(const proto::NodeTables& t, const std::string& name) {
    for (const auto& p : t.ports())
      if (p.name() == name) return &p;
    return nullptr;
  }
  static const proto::SecurityGroup* group(const proto::NodeTables& t, const std::string& name,
                                           const std::string& network) {
    for (const auto& g : t.security_groups())
      if (g.name() == name && g.network() == network) return &g;
    return nullptr;
  }
  static std::vector<std::string> names(const auto& list) {
    std::vector<std::string> out;
    for (const auto& e : list) out.push_back(e.name());
    return out;
  }

 private:
  static Model* model_;
};
Model* Compile::model_ = nullptr;

TEST_F(Compile, ANodeGetsOnlyWhatItNeeds) {
  proto::NodeTables a = compile_node(model(), "a");
  EXPECT_EQ(a.node(), "a");
  EXPECT_EQ(a.vtep_ip(), ip("10.255.0.1"));
  EXPECT_EQ(names(a.networks()), std::vector<std::string>{"red"});
  EXPECT_EQ(names(a.ports()), (std::vector<std::string>{"red-bare", "red-web"}));
  EXPECT_EQ(names(a.qos_policies()), std::vector<std::string>{"q"});
  EXPECT_EQ(names(a.load_balancers()), std::vector<std::string>{"lb"});
  EXPECT_TRUE(a.gateways().empty());
  // Peers: b shares red; c hosts red's gateway. Not idle.
  ASSERT_EQ(a.peers_size(), 2);
  EXPECT_EQ(a.peers(0).node(), "b");
  EXPECT_EQ(a.peers(1).node(), "c");
  EXPECT_EQ(a.peers(1).ip(), ip("10.255.0.3"));

  proto::NodeTables c = compile_node(model(), "c");
  EXPECT_EQ(names(c.networks()), (std::vector<std::string>{"blue", "red"}));  // red: via edge
  EXPECT_EQ(names(c.gateways()), std::vector<std::string>{"edge"});
  EXPECT_EQ(names(c.ports()), std::vector<std::string>{"blue-web"});
  EXPECT_TRUE(c.qos_policies().empty());

  proto::NodeTables idle = compile_node(model(), "idle");
  EXPECT_EQ(idle.vtep_ip(), ip("10.255.0.4"));
  EXPECT_TRUE(idle.peers().empty());
  EXPECT_TRUE(idle.networks().empty());

  proto::NodeTables unknown = compile_node(model(), "nowhere");
  EXPECT_EQ(unknown.node(), "nowhere");
  proto::NodeTables just_the_name;
  just_the_name.set_node("nowhere");
  EXPECT_EQ(serialize_tables(unknown), serialize_tables(just_the_name));
}

TEST_F(Compile, L2ArpAndFloodOfANetwork) {
  proto::NodeTables b = compile_node(model(), "b");
  const proto::Network* red = network(b, "red");
  ASSERT_TRUE(red);
  EXPECT_EQ(red->vni(), 100u);
  EXPECT_EQ(red->mtu(), 1450u);
  EXPECT_EQ(red->router_mac(), mac_to_u64(router_mac(100)));
  ASSERT_EQ(red->l2_size(), 3);  // every port of red, sorted by MAC
  for (int i = 1; i < red->l2_size(); ++i) EXPECT_LT(red->l2(i - 1).mac(), red->l2(i).mac());
  for (const auto& e : red->l2()) {
    if (e.port() == "red-app") {
      EXPECT_EQ(e.location().local_port(), "red-app");
    } else {
      EXPECT_EQ(e.location().remote_vtep(), ip("10.255.0.1"));
    }
  }
  // ARP: 3 ports, 2 subnet gateways, 1 VIP; gateways and VIP answer with the router MAC.
  ASSERT_EQ(red->arp_size(), 6);
  for (const auto& a : red->arp()) {
    if (a.owner() != proto::ArpEntry::PORT) {
      EXPECT_EQ(a.mac(), red->router_mac()) << a.name();
    }
    if (a.name() == "lb") {
      EXPECT_EQ(a.ip(), ip("10.0.1.100"));
    }
  }
  // Flood: the local port, and node a once; not c, which hosts only the gateway.
  EXPECT_EQ(
      std::vector<std::string>(red->flood_local_ports().begin(), red->flood_local_ports().end()),
      std::vector<std::string>{"red-app"});
  ASSERT_EQ(red->flood_remote_vteps_size(), 1);
  EXPECT_EQ(red->flood_remote_vteps(0), ip("10.255.0.1"));
}

TEST_F(Compile, RoutesConnectedStaticAndGateway) {
  auto check = [&](const char* node, bool gateway_here) {
    proto::NodeTables t = compile_node(model(), node);
    const proto::Network* red = network(t, "red");
    ASSERT_TRUE(red);
    ASSERT_EQ(red->routes_size(), 4);
    const auto& def = red->routes(0);  // sorted: 0.0.0.0/0 first
    EXPECT_EQ(def.kind(), proto::Route::GATEWAY);
    EXPECT_EQ(def.gateway(), "edge");
    if (gateway_here) {
      EXPECT_FALSE(def.has_location());
    } else {
      EXPECT_EQ(def.location().remote_vtep(), ip("10.255.0.3"));
    }
    EXPECT_EQ(red->routes(1).kind(), proto::Route::CONNECTED);
    EXPECT_EQ(red->routes(1).subnet(), "pub");
    EXPECT_EQ(red->routes(2).subnet(), "priv");
    const auto& stat = red->routes(3);
    EXPECT_EQ(stat.kind(), proto::Route::STATIC);
    EXPECT_EQ(stat.prefix().addr(), ip("192.168.0.0"));
    EXPECT_EQ(stat.prefix().len(), 16u);
    EXPECT_EQ(stat.next_hop_port(), "red-app");
    EXPECT_EQ(stat.next_hop_mac(), mac_to_u64(derived_port_mac("red", ip("10.0.2.20"))));
  };
  check("a", false);
  check("c", true);
}

TEST_F(Compile, PortSecurityAndDhcp) {
  proto::NodeTables b = compile_node(model(), "b");
  const proto::Port* app = port(b, "red-app");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->vni(), 100u);
  // 192.168.1.0/24 is inside 192.168.0.0/16: dropped; sorted by address.
  ASSERT_EQ(app->allowed_addresses_size(), 2);
  EXPECT_EQ(app->allowed_addresses(0).addr(), ip("10.0.2.20"));
  EXPECT_EQ(app->allowed_addresses(0).len(), 32u);
  EXPECT_EQ(app->allowed_addresses(1).addr(), ip("192.168.0.0"));
  EXPECT_FALSE(app->has_dhcp());  // subnet priv: dhcp false

  proto::NodeTables a = compile_node(model(), "a");
  const proto::Port* web = port(a, "red-web");
  ASSERT_TRUE(web && web->has_dhcp());
  EXPECT_EQ(web->dhcp().ip(), ip("10.0.1.10"));
  EXPECT_EQ(web->dhcp().prefix_len(), 24u);
  EXPECT_EQ(web->dhcp().gateway(), ip("10.0.1.1"));
  ASSERT_EQ(web->dhcp().dns_size(), 1);
  EXPECT_EQ(web->dhcp().dns(0), ip("10.0.0.53"));
  EXPECT_EQ(web->dhcp().mtu(), 1450u);
  EXPECT_EQ(web->dhcp().lease_seconds(), kDhcpLeaseSeconds);
  EXPECT_EQ(web->dhcp().hostname(), "red-web");
  EXPECT_EQ(web->qos_policy(), "q");
}

TEST_F(Compile, SecurityGroupsOncePerNetworkWithRemoteGroupsResolvedInIt) {
  // web has members in red (10.0.1.10) and blue (10.0.1.10, 10.0.1.11).
  proto::NodeTables a = compile_node(model(), "a"), b = compile_node(model(), "b");
  // a: red-web uses web; red-bare uses none.
  ASSERT_EQ(a.security_groups_size(), 1);
  const proto::SecurityGroup* red = group(a, "web", "red");
  ASSERT_TRUE(red);
  EXPECT_EQ(red->vni(), 100u);
  ASSERT_EQ(red->ingress_size(), 2);
  const auto& icmp = red->ingress(1);
  EXPECT_EQ(icmp.protocol(), proto::PROTOCOL_ICMP);
  EXPECT_EQ(icmp.icmp_type(), 8u);
  EXPECT_FALSE(icmp.has_icmp_code());
  EXPECT_EQ(icmp.remote_group(), "web");
  ASSERT_EQ(icmp.remote_size(), 1);
  EXPECT_EQ(icmp.remote(0).addr(), ip("10.0.1.10"));
  EXPECT_EQ(icmp.remote(0).len(), 32u);
  const auto& tcp = red->ingress(0);
  ASSERT_EQ(tcp.ports_size(), 2);  // "443,80": sorted
  EXPECT_EQ(tcp.ports(0).lo(), 80u);
  EXPECT_EQ(tcp.ports(1).lo(), 443u);
  EXPECT_EQ(tcp.remote(0).len(), 0u);  // 0.0.0.0/0

  // b: app and open for red-app, web for blue-web-2: web in blue resolves
  // to blue's two members only.
  EXPECT_EQ(b.security_groups_size(), 3);
  const proto::SecurityGroup* blue = group(b, "web", "blue");
  ASSERT_TRUE(blue);
  EXPECT_EQ(blue->ingress(1).remote_size(), 2);
  EXPECT_FALSE(group(b, "web", "red"));
}

TEST_F(Compile, EgressModesAndEmptyRemoteGroups) {
  proto::NodeTables a = compile_node(model(), "a");
  proto::NodeTables b = compile_node(model(), "b");
  // No group at all: ingress denied, egress allowed.
  const proto::Port* bare = port(a, "red-bare");
  EXPECT_TRUE(bare->security_groups().empty());
  EXPECT_EQ(bare->egress_mode(), proto::Port::EGRESS_ALLOW_ALL);
  // web says `egress: []`: nothing may leave.
  EXPECT_EQ(port(a, "red-web")->egress_mode(), proto::Port::EGRESS_ALLOW_LISTED);
  const proto::SecurityGroup* web = group(a, "web", "red");
  EXPECT_TRUE(web->restricts_egress());
  EXPECT_TRUE(web->egress().empty());
  // app lists egress but open omits it: the union allows everything.
  const proto::Port* app = port(b, "red-app");
  EXPECT_EQ(app->egress_mode(), proto::Port::EGRESS_ALLOW_ALL);
  EXPECT_EQ(std::vector<std::string>(app->security_groups().begin(), app->security_groups().end()),
            (std::vector<std::string>{"app", "open"}));
  EXPECT_TRUE(group(b, "app", "red")->restricts_egress());
  EXPECT_EQ(group(b, "app", "red")->egress_size(), 1);
  EXPECT_FALSE(group(b, "open", "red")->restricts_egress());
  // app's tcp rule from web: red members only, all ports written out. Its
  // rule from `nobody` (no member in red) matches nothing and is left out.
  const proto::SecurityGroup* app_group = group(b, "app", "red");
  ASSERT_EQ(app_group->ingress_size(), 1);
  EXPECT_EQ(app_group->ingress(0).ports(0).lo(), 1u);
  EXPECT_EQ(app_group->ingress(0).ports(0).hi(), 65535u);
  ASSERT_EQ(app_group->ingress(0).remote_size(), 1);
}

TEST_F(Compile, QosLoadBalancersAndGateways) {
  proto::NodeTables a = compile_node(model(), "a");
  const auto& q = a.qos_policies(0);
  EXPECT_EQ(q.egress().rate_bps(), 10'000'000u);
  EXPECT_EQ(q.egress().burst_bytes(), 32u * 1024);
  EXPECT_FALSE(q.has_ingress());
  ASSERT_EQ(q.classes_size(), 1);
  EXPECT_EQ(q.classes(0).priority(), proto::QosClass::HIGH);
  EXPECT_EQ(q.classes(0).dscp_size(), 2);  // sorted, deduplicated: 10, 46

  const auto& lb = a.load_balancers(0);
  EXPECT_EQ(lb.vni(), 100u);
  ASSERT_EQ(lb.listeners_size(), 2);
  EXPECT_EQ(lb.listeners(0).protocol(), proto::PROTOCOL_TCP);  // tcp (6) before udp (17)
  EXPECT_EQ(lb.listeners(0).target_port(), 8080u);
  EXPECT_EQ(lb.listeners(1).target_port(), 53u);  // defaults to port
  ASSERT_EQ(lb.backends_size(), 2);
  EXPECT_EQ(lb.backends(0).port(), "red-app");
  EXPECT_EQ(lb.backends(0).weight(), 1u);
  EXPECT_EQ(lb.backends(0).location().remote_vtep(), ip("10.255.0.2"));
  EXPECT_EQ(lb.backends(1).weight(), 3u);
  EXPECT_EQ(lb.backends(1).location().local_port(), "red-web");
  EXPECT_EQ(lb.health_check().interval_ms(), 1000u);
  EXPECT_EQ(lb.health_check().timeout_ms(), 200u);
  EXPECT_EQ(lb.health_check().unhealthy_threshold(), 3u);

  proto::NodeTables c = compile_node(model(), "c");
  const auto& g = c.gateways(0);
  EXPECT_EQ(g.external_ip(), ip("203.0.113.2"));
  ASSERT_EQ(g.snat_size(), 1);  // only the private subnet
  EXPECT_EQ(g.snat(0).subnet(), "priv");
  EXPECT_EQ(g.snat(0).vni(), 100u);
  ASSERT_EQ(g.floating_ips_size(), 1);
  EXPECT_EQ(g.floating_ips(0).port(), "red-web");
  EXPECT_EQ(g.floating_ips(0).ip(), ip("10.0.1.10"));
  EXPECT_EQ(g.floating_ips(0).location().remote_vtep(), ip("10.255.0.1"));
}

TEST_F(Compile, CodecRoundTripsAndJsonKeysAreStable) {
  proto::NodeTables a = compile_node(model(), "a");
  auto back = parse_tables(serialize_tables(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(serialize_tables(*back), serialize_tables(a));
  std::string json = tables_to_json(compile_node(model(), "idle"));
  // Defaults printed too: the keys do not come and go with the values.
  for (const char* key : {"\"node\"", "\"vtep_ip\"", "\"peers\"", "\"networks\"", "\"ports\"",
                          "\"qos_policies\"", "\"load_balancers\"", "\"gateways\""})
    EXPECT_NE(json.find(key), std::string::npos) << key;
  EXPECT_FALSE(parse_tables("\xff\xff\xff"));
}

TEST(CompileDeterminism, SameInputSameBytesWhateverTheOrder) {
  Model m1 = load(kPolicy);
  // The same policy with every list reversed.
  Model m2 = m1;
  std::reverse(m2.nodes.begin(), m2.nodes.end());
  std::reverse(m2.ports.begin(), m2.ports.end());
  std::reverse(m2.security_groups.begin(), m2.security_groups.end());
  std::reverse(m2.networks.begin(), m2.networks.end());
  for (auto& n : m2.networks) std::reverse(n.subnets.begin(), n.subnets.end());
  for (auto& lb : m2.load_balancers) std::reverse(lb.backends.begin(), lb.backends.end());
  Diagnostics d;
  ASSERT_TRUE(validate(m2, d)) << d.format();
  auto t1 = compile_all(m1), t2 = compile_all(m2), t3 = compile_all(m1);
  ASSERT_EQ(t1.size(), 4u);
  for (const auto& [node, tables] : t1) {
    EXPECT_EQ(serialize_tables(tables), serialize_tables(t2.at(node))) << node;
    EXPECT_EQ(serialize_tables(tables), serialize_tables(t3.at(node))) << node;
  }
}

TEST(CompileDiff, EntriesAddedAndRemoved) {
  Model before = load(kPolicy);
  std::string text = kPolicy;
  // Move red-bare from 10.0.2.30 to 10.0.2.31.
  text.replace(text.find("ip: 10.0.2.30"), 13, "ip: 10.0.2.31");
  Model after = load(text);
  TablesDiff diff = diff_tables(compile_all(before), compile_all(after));
  // Every node with red sees its L2 and ARP entry change; a also its port.
  std::vector<std::string> nodes;
  for (const auto& n : diff.nodes) nodes.push_back(n.node);
  EXPECT_EQ(nodes, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(diff.added(), diff.removed());
  std::string out = render_diff(diff);
  EXPECT_NE(out.find("  - arp  10.0.2.30"), std::string::npos) << out;
  EXPECT_NE(out.find("  + arp  10.0.2.31"), std::string::npos) << out;
  EXPECT_NE(out.find("  port red-bare\n"), std::string::npos) << out;

  EXPECT_TRUE(diff_tables(compile_all(before), compile_all(load(kPolicy))).empty());
}

// nodes_touched() must cover every node whose tables change, and
// update_tables() must give exactly what a full recompile gives. Random
// valid mutations of a policy, each checked against compile_all().
class Touched : public testing::Test {
 protected:
  static std::string policy() {
    std::string y = "version: 1\nnodes:\n";
    for (int n = 0; n < 8; ++n)
      y += "  - {name: n" + std::to_string(n) + ", underlay_ip: 10.255.0." + std::to_string(n + 1) +
           "}\n";
    y += "networks:\n";
    for (int w = 0; w < 4; ++w)
      y += "  - {name: w" + std::to_string(w) + ", vni: " + std::to_string(w + 1) +
           ", subnets: [{name: s, cidr: 10.0.0.0/24}, {name: p, cidr: 10.0.1.0/24, public: "
           "true}]}\n";
    y += "ports:\n";
    for (int p = 0; p < 40; ++p)
      y += "  - {name: p" + std::to_string(p) + ", network: w" + std::to_string(p % 4) +
           ", subnet: " + (p % 3 ? "s" : "p") + ", node: n" + std::to_string((p * 3) % 7) +
           ", ip: 10.0." + (p % 3 ? "0." : "1.") + std::to_string(10 + p) +
           ", security_groups: [g" + std::to_string(p % 5) + "]" + (p % 6 ? "" : ", qos: q") +
           "}\n";
    y += "security_groups:\n";
    for (int g = 0; g < 5; ++g)
      y += "  - {name: g" + std::to_string(g) +
           ", ingress: [{protocol: tcp, ports: 22, from_group: g" + std::to_string((g + 1) % 5) +
           "}, {protocol: icmp}]}\n";
    y += "qos_policies:\n  - {name: q, egress: {rate: 10mbit}}\n  - {name: unused, ingress: {rate: "
         "1mbit}}\n";
    y += "load_balancers:\n  - {name: lb, network: w1, vip: 10.0.0.200, listeners: [{protocol: "
         "tcp, port: 80}], "
         "backends: [{port: p1}, {port: p5}]}\n";
    y += "gateways:\n  - {name: gw, node: n7, external_cidr: 203.0.113.0/24, external_ip: "
         "203.0.113.2, "
         "external_next_hop: 203.0.113.1, networks: [w0], floating_ips: [{ip: 203.0.113.9, port: "
         "p0}]}\n";
    return y;
  }
};

TEST_F(Touched, CoversEveryChangedNode) {
  const Model base = load(policy());
  ASSERT_EQ(base.ports.size(), 40u);
  const auto base_tables = compile_all(base);
  std::mt19937 rng(12345);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  int checked = 0;
  for (int round = 0; round < 480; ++round) {
    Model m = base;
    switch (round % 12) {
      case 0: {  // a port moves to another node
        Port& p = m.ports[pick(m.ports.size())];
        p.node = named("n", pick(8));
        break;
      }
      case 1: {  // a port changes address
        Port& p = m.ports[pick(m.ports.size())];
        p.ip = (p.ip & ~0xffu) | static_cast<uint32_t>(100 + pick(100));
        p.mac = derived_port_mac(p.network, p.ip);
        break;
      }
      case 2: {  // a port changes groups
        Port& p = m.ports[pick(m.ports.size())];
        p.security_groups = {named("g", pick(5))};
        p.at.security_groups.assign(1, Loc{1, 1});
        break;
      }
      case 3: {  // a rule changes
        SecurityGroup& g = m.security_groups[pick(5)];
        g.ingress[0].ports = {{static_cast<uint16_t>(1 + pick(1000)), 2000}};
        break;
      }
      case 4:  // a QoS policy changes (used or not)
        m.qos_policies[pick(2)].classes.emplace_back().dscp = {1};
        break;
      case 5:  // a node's underlay address changes
        m.nodes[pick(8)].underlay_ip = 0x0afe0000u | static_cast<uint32_t>(pick(200) + 1);
        break;
      case 6:  // a network's MTU changes
        m.networks[pick(4)].mtu = static_cast<uint32_t>(1000 + pick(100));
        break;
      case 7:  // a port is removed (not a backend or floating IP)
        m.ports.erase(m.ports.begin() + static_cast<long>(10 + pick(20)));
        break;
      case 8:  // the gateway moves
        m.gateways[0].node = named("n", pick(8));
        break;
      case 9: {  // a node joins, with a port moved onto it
        Node& n = m.nodes.emplace_back();
        n.name = "fresh";
        n.underlay_ip = 0x0afd0001u;
        m.ports[pick(m.ports.size())].node = "fresh";
        break;
      }
      case 10:  // a node without ports leaves (n7 hosts only the gateway)
        m.gateways[0].node = "n0";
        m.nodes.erase(m.nodes.begin() + 7);
        break;
      case 11: {  // a network joins a gateway and a port changes subnet
        m.gateways[0].networks.push_back("w3");
        m.gateways[0].at.networks.push_back(Loc{1, 1});
        Port& p = m.ports[pick(m.ports.size())];
        p.subnet = p.subnet == "s" ? "p" : "s";
        p.ip ^= 0x100u;  // 10.0.0.x <-> 10.0.1.x
        p.mac = derived_port_mac(p.network, p.ip);
        break;
      }
    }
    Diagnostics d;
    if (!validate(m, d)) continue;  // e.g. an address collision: not a valid change
    ++checked;
    std::vector<std::string> touched = nodes_touched(base, m);
    std::set<std::string> touched_set(touched.begin(), touched.end());
    auto tables = compile_all(m);
    for (const auto& [node, t] : tables) {
      auto old = base_tables.find(node);
      if (old == base_tables.end() || serialize_tables(t) != serialize_tables(old->second)) {
        EXPECT_TRUE(touched_set.count(node)) << "round " << round << ": " << node << " changed";
      }
    }
    auto updated = base_tables;
    EXPECT_EQ(update_tables(base, m, updated), touched);
    ASSERT_EQ(updated.size(), tables.size()) << "round " << round;
    for (const auto& [node, t] : tables) {
      ASSERT_TRUE(updated.count(node)) << "round " << round << ": " << node;
      EXPECT_EQ(serialize_tables(updated.at(node)), serialize_tables(t))
          << "round " << round << ": " << node << " differs from a full compile";
    }
  }
  EXPECT_GT(checked, 300);
}

TEST_F(Touched, IsExactlyTheNodesOfTheNetworkForAOnePortChange) {
  const Model base = load(policy());
  Model m = base;
  m.ports[2].ip += 100;  // p2, in network w2
  m.ports[2].mac = derived_port_mac(m.ports[2].network, m.ports[2].ip);
  Diagnostics d;
  ASSERT_TRUE(validate(m, d)) << d.format();
  std::set<std::string> w2_nodes;
  for (const Port& p : base.ports)
    if (p.network == "w2") w2_nodes.insert(p.node);
  std::vector<std::string> touched = nodes_touched(base, m);
  EXPECT_EQ(touched, std::vector<std::string>(w2_nodes.begin(), w2_nodes.end()));
  EXPECT_LT(touched.size(), base.nodes.size());
  EXPECT_TRUE(nodes_touched(base, base).empty());
}

}  // namespace
}  // namespace weft::policy
