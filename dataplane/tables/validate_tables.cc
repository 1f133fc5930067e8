#include "dataplane/tables/validate_tables.h"

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "dataplane/tables/build_support.h"

namespace weft::dp {
namespace {

using L = TableLimits;

constexpr uint32_t kMaxVni = (1u << 24) - 1;
constexpr uint32_t kMinMtu = 576;  // the policy's range (control/model/values.h)
constexpr uint32_t kMaxMtu = 9000;
constexpr uint64_t kMacBits = (uint64_t{1} << 48) - 1;
constexpr uint64_t kMacGroupBit = uint64_t{1} << 40;  // the first octet's I/G bit

void check_count(size_t n, size_t cap, const std::string& what) {
  if (n > cap)
    build_fail(what + ": " + std::to_string(n) + " is more than the node accepts (" +
               std::to_string(cap) + ")");
}

void check_name(const std::string& name, const std::string& what) {
  if (name.empty() || name.size() > L::kMaxNameLength)
    build_fail(what + " has a name of " + std::to_string(name.size()) + " bytes (1-" +
               std::to_string(L::kMaxNameLength) + ")");
}

uint32_t prefix_mask(uint32_t len) {
  return len == 0 ? 0 : ~uint32_t{0} << (32 - len);
}

void check_prefix(const proto::Prefix& p, const std::string& what) {
  if (p.len() > 32)
    build_fail(what + ": prefix length " + std::to_string(p.len()) + " is above 32");
  if ((p.addr() & ~prefix_mask(p.len())) != 0)
    build_fail(what + ": " + ip_text(p.addr()) + "/" + std::to_string(p.len()) +
               " has host bits set");
}

void check_unicast_mac(uint64_t mac, const std::string& what) {
  if (mac == 0) build_fail(what + " has no MAC");
  if (mac > kMacBits) build_fail(what + ": MAC " + std::to_string(mac) + " is wider than 48 bits");
  if ((mac & kMacGroupBit) != 0)
    build_fail(what + ": MAC " + mac_text(mac) + " is a multicast MAC");
}

bool known_protocol(proto::Protocol p) {
  return p == proto::PROTOCOL_ANY || p == proto::PROTOCOL_ICMP || p == proto::PROTOCOL_TCP ||
         p == proto::PROTOCOL_UDP;
}

// What a security group's rules expand to in the classifier: each rule
// once per remote prefix and port range (sg_builder.cc). Checks each rule.
size_t check_rules(const google::protobuf::RepeatedPtrField<proto::SecurityRule>& rules,
                   const std::string& where) {
  check_count(static_cast<size_t>(rules.size()), L::kMaxRulesPerGroup, where + ": rules");
  size_t expanded = 0;
  for (int k = 0; k < rules.size(); ++k) {
    const proto::SecurityRule& r = rules[k];
    const std::string rule = where + " rule " + std::to_string(k + 1);
    if (!known_protocol(r.protocol()))
      build_fail(rule + ": unknown protocol " + std::to_string(r.protocol()));
    check_count(static_cast<size_t>(r.ports_size()), L::kMaxRuleItems, rule + ": port ranges");
    check_count(static_cast<size_t>(r.remote_size()), L::kMaxRuleItems, rule + ": remote prefixes");
    const bool l4 = r.protocol() == proto::PROTOCOL_TCP || r.protocol() == proto::PROTOCOL_UDP;
    if (!l4 && r.ports_size() != 0) build_fail(rule + ": port ranges on a protocol without ports");
    for (const proto::PortRange& pr : r.ports())
      if (pr.lo() > pr.hi() || pr.hi() > UINT16_MAX)
        build_fail(rule + ": port range " + std::to_string(pr.lo()) + "-" +
                   std::to_string(pr.hi()));
    if (r.protocol() != proto::PROTOCOL_ICMP && (r.has_icmp_type() || r.has_icmp_code()))
      build_fail(rule + ": an ICMP type or code on a protocol that is not ICMP");
    if (r.has_icmp_code() && !r.has_icmp_type()) build_fail(rule + ": an ICMP code without a type");
    if ((r.has_icmp_type() && r.icmp_type() > UINT8_MAX) ||
        (r.has_icmp_code() && r.icmp_code() > UINT8_MAX))
      build_fail(rule + ": ICMP type or code above 255");
    for (const proto::Prefix& p : r.remote()) check_prefix(p, rule + ": remote");
    expanded += static_cast<size_t>(r.remote_size()) *
                std::max<size_t>(1, static_cast<size_t>(r.ports_size()));
  }
  return expanded;
}

struct NetworkInfo {
  uint32_t vni;
  std::set<std::string> subnets;
};

}  // namespace

void validate_tables(const proto::NodeTables& in) {
  // Sizes first: nothing below walks a list before its length is known.
  check_count(static_cast<size_t>(in.peers_size()), L::kMaxPeers, "peer VTEPs");
  check_count(static_cast<size_t>(in.networks_size()), L::kMaxNetworks, "networks");
  check_count(static_cast<size_t>(in.ports_size()), L::kMaxNodePorts, "ports");
  check_count(static_cast<size_t>(in.security_groups_size()), L::kMaxSecurityGroups,
              "security groups");
  check_count(static_cast<size_t>(in.load_balancers_size()), L::kMaxLoadBalancers,
              "load balancers");

  std::set<std::string> peer_names;
  std::set<uint32_t> peer_ips;
  for (const proto::PeerVtep& p : in.peers()) {
    check_name(p.node(), "a peer VTEP");
    if (!peer_names.insert(p.node()).second)
      build_fail("peer node '" + p.node() + "' is listed twice");
    if (!peer_ips.insert(p.ip()).second)
      build_fail("peer VTEP " + ip_text(p.ip()) + " (node '" + p.node() + "') is listed twice");
  }

  std::set<std::string> port_names;
  for (const proto::Port& p : in.ports()) {
    check_name(p.name(), "a port");
    if (!port_names.insert(p.name()).second) build_fail("port '" + p.name() + "' is listed twice");
  }

  std::map<std::string, NetworkInfo> networks;
  std::set<uint32_t> vnis;
  size_t l2_total = 0;
  for (const proto::Network& n : in.networks()) {
    check_name(n.name(), "a network");
    const std::string where = "network '" + n.name() + "'";
    if (n.vni() == 0 || n.vni() > kMaxVni)
      build_fail(where + ": VNI " + std::to_string(n.vni()) + " is outside 1-16777215");
    if (n.mtu() < kMinMtu || n.mtu() > kMaxMtu)
      build_fail(where + ": MTU " + std::to_string(n.mtu()) + " is outside 576-9000");
    if (n.router_mac() != 0) check_unicast_mac(n.router_mac(), where + ": router");
    check_count(static_cast<size_t>(n.subnets_size()), L::kMaxSubnets, where + ": subnets");
    check_count(static_cast<size_t>(n.routes_size()), L::kMaxRoutes, where + ": routes");
    check_count(static_cast<size_t>(n.l2_size()), L::kMaxL2Entries, where + ": L2 entries");
    check_count(static_cast<size_t>(n.arp_size()), L::kMaxL2Entries, where + ": ARP entries");
    check_count(static_cast<size_t>(n.flood_local_ports_size()), L::kMaxNodePorts,
                where + ": local flood list");
    check_count(static_cast<size_t>(n.flood_remote_vteps_size()), L::kMaxPeers,
                where + ": remote flood list");
    l2_total += static_cast<size_t>(n.l2_size()) + static_cast<size_t>(n.arp_size());
    check_count(l2_total, L::kMaxL2Total, "L2 and ARP entries of every network");
    auto [net, fresh] = networks.try_emplace(n.name(), NetworkInfo{n.vni(), {}});
    if (!fresh) build_fail(where + " is listed twice");
    if (!vnis.insert(n.vni()).second)
      build_fail(where + ": VNI " + std::to_string(n.vni()) + " is used by another network");

    std::vector<std::pair<uint32_t, uint32_t>> cidrs;
    for (const proto::Subnet& s : n.subnets()) {
      check_name(s.name(), where + ": a subnet");
      const std::string subnet = where + ": subnet '" + s.name() + "'";
      if (!net->second.subnets.insert(s.name()).second) build_fail(subnet + " is listed twice");
      check_prefix(s.cidr(), subnet);
      const uint32_t mask = prefix_mask(s.cidr().len());
      if (s.gateway() != 0 && (s.gateway() & mask) != s.cidr().addr())
        build_fail(subnet + ": gateway " + ip_text(s.gateway()) + " is outside it");
      check_count(static_cast<size_t>(s.dns_size()), L::kMaxDns, subnet + ": DNS servers");
      for (const auto& [addr, m] : cidrs)
        if ((addr & mask & m) == (s.cidr().addr() & mask & m))
          build_fail(subnet + " (" + ip_text(s.cidr().addr()) + "/" +
                     std::to_string(s.cidr().len()) + ") overlaps another subnet of the network");
      cidrs.emplace_back(s.cidr().addr(), mask);
    }

    std::set<std::pair<uint32_t, uint32_t>> prefixes;
    for (const proto::Route& r : n.routes()) {
      const std::string route =
          where + ": route " + ip_text(r.prefix().addr()) + "/" + std::to_string(r.prefix().len());
      check_prefix(r.prefix(), route);
      if (!proto::Route::Kind_IsValid(r.kind()))
        build_fail(route + ": unknown kind " + std::to_string(r.kind()));
      if (!prefixes.insert({r.prefix().addr(), r.prefix().len()}).second)
        build_fail(route + " is listed twice");
      if (r.kind() == proto::Route::STATIC) {
        check_unicast_mac(r.next_hop_mac(), route + ": next hop");
        if (r.location().at_case() == proto::Location::AT_NOT_SET)
          build_fail(route + ": next hop has no location");
      }
      if (r.location().at_case() == proto::Location::kLocalPort &&
          !port_names.contains(r.location().local_port()))
        build_fail(route + ": next hop '" + r.location().local_port() +
                   "' is no port of this node");
    }

    for (const proto::L2Entry& e : n.l2()) {
      check_unicast_mac(e.mac(), where + ": L2 entry of port '" + e.port() + "'");
      if (e.location().at_case() == proto::Location::kLocalPort &&
          !port_names.contains(e.location().local_port()))
        build_fail(where + ": L2 entry " + mac_text(e.mac()) + " is on '" +
                   e.location().local_port() + "', which is no port of this node");
    }
    for (const proto::ArpEntry& a : n.arp()) {
      if (!proto::ArpEntry::Owner_IsValid(a.owner()))
        build_fail(where + ": ARP entry " + ip_text(a.ip()) + " has an unknown owner");
      check_unicast_mac(a.mac(), where + ": ARP entry " + ip_text(a.ip()));
    }
    std::set<std::string> flood_ports;
    for (const std::string& name : n.flood_local_ports()) {
      if (!port_names.contains(name))
        build_fail(where + ": flood list names '" + name + "', which is no port of this node");
      if (!flood_ports.insert(name).second)
        build_fail(where + ": flood list names port '" + name + "' twice");
    }
    std::set<uint32_t> flood_vteps;
    for (uint32_t ip : n.flood_remote_vteps())
      if (!flood_vteps.insert(ip).second)
        build_fail(where + ": flood list names VTEP " + ip_text(ip) + " twice");
  }

  std::map<std::pair<std::string, std::string>, size_t>
      groups;  // (network, name) -> expanded rules
  size_t expanded_total = 0;
  for (const proto::SecurityGroup& g : in.security_groups()) {
    check_name(g.name(), "a security group");
    const std::string where = "security group '" + g.name() + "' of network '" + g.network() + "'";
    auto net = networks.find(g.network());
    if (net == networks.end() || net->second.vni != g.vni())
      build_fail(where + ": no such network in the tables");
    const size_t expanded =
        check_rules(g.ingress(), where + " ingress") + check_rules(g.egress(), where + " egress");
    if (!groups.try_emplace({g.network(), g.name()}, expanded).second)
      build_fail(where + " is listed twice");
    expanded_total += expanded;
    check_count(expanded_total, L::kMaxExpandedRules,
                "security rules (remote prefixes x port ranges)");
  }

  std::set<std::pair<std::string, uint32_t>> ips;
  std::set<std::pair<std::string, uint64_t>> macs;
  using ClassKey = std::tuple<std::string, int, std::vector<std::string>>;
  std::set<ClassKey> classes;
  size_t class_rules = 0;
  for (const proto::Port& p : in.ports()) {
    const std::string where = "port '" + p.name() + "'";
    auto net = networks.find(p.network());
    if (net == networks.end() || net->second.vni != p.vni())
      build_fail(where + " is in network '" + p.network() + "' (VNI " + std::to_string(p.vni()) +
                 "), which the tables do not hold");
    if (!net->second.subnets.contains(p.subnet()))
      build_fail(where + ": subnet '" + p.subnet() + "' is no subnet of network '" + p.network() +
                 "'");
    check_unicast_mac(p.mac(), where);
    if (p.ip() == 0) build_fail(where + " has no address");
    if (!ips.insert({p.network(), p.ip()}).second)
      build_fail(where + ": address " + ip_text(p.ip()) + " is another port's in its network");
    if (!macs.insert({p.network(), p.mac()}).second)
      build_fail(where + ": MAC " + mac_text(p.mac()) + " is another port's in its network");
    if (!proto::Port::Egress_IsValid(p.egress_mode())) build_fail(where + ": unknown egress mode");
    check_count(static_cast<size_t>(p.allowed_addresses_size()), L::kMaxAllowedAddresses,
                where + ": allowed addresses");
    for (const proto::Prefix& a : p.allowed_addresses())
      check_prefix(a, where + ": allowed address");
    check_count(static_cast<size_t>(p.security_groups_size()), L::kMaxGroupsPerPort,
                where + ": security groups");
    std::set<std::string> own;
    size_t rules = 0;
    for (const std::string& name : p.security_groups()) {
      if (!own.insert(name).second)
        build_fail(where + ": security group '" + name + "' is listed twice");
      auto g = groups.find({p.network(), name});
      if (g == groups.end())
        build_fail(where + ": security group '" + name + "' of network '" + p.network() +
                   "' is not in the tables");
      rules += g->second;
    }
    // Each distinct set of groups is a class with its own copy of the
    // rules (sg_builder.cc): that is what the classifier holds.
    if (classes
            .insert({p.network(),
                     p.egress_mode(),
                     {p.security_groups().begin(), p.security_groups().end()}})
            .second) {
      class_rules += rules;
      check_count(class_rules, L::kMaxExpandedRules,
                  "security rules of every port's set of groups");
    }
    if (p.has_dhcp()) {
      const proto::DhcpOptions& d = p.dhcp();
      if (d.prefix_len() == 0 || d.prefix_len() > 30)
        build_fail(where + ": DHCP prefix length " + std::to_string(d.prefix_len()) +
                   " is outside 1-30");
      if (d.mtu() != 0 && (d.mtu() < kMinMtu || d.mtu() > kMaxMtu))
        build_fail(where + ": DHCP MTU " + std::to_string(d.mtu()) + " is outside 576-9000");
      check_count(static_cast<size_t>(d.dns_size()), L::kMaxDns, where + ": DHCP DNS servers");
      if (d.hostname().size() > L::kMaxNameLength) build_fail(where + ": DHCP host name too long");
    }
  }

  for (const proto::LoadBalancer& lb : in.load_balancers()) {
    check_name(lb.name(), "a load balancer");
    const std::string where = "load balancer '" + lb.name() + "'";
    auto net = networks.find(lb.network());
    if (net == networks.end() || net->second.vni != lb.vni())
      build_fail(where + ": no such network in the tables");
    if (lb.vip() == 0) build_fail(where + " has no VIP");
    check_count(static_cast<size_t>(lb.listeners_size()), L::kMaxListeners, where + ": listeners");
    check_count(static_cast<size_t>(lb.backends_size()), L::kMaxBackends, where + ": backends");
    for (const proto::Listener& l : lb.listeners())
      if (l.port() == 0 || l.port() > UINT16_MAX || l.target_port() > UINT16_MAX)
        build_fail(where + ": listener port " + std::to_string(l.port()) + " -> " +
                   std::to_string(l.target_port()) + " is outside 1-65535");
    for (const proto::Backend& b : lb.backends()) {
      check_name(b.port(), where + ": a backend");
      if (b.weight() > L::kMaxBackendWeight)
        build_fail(where + ": backend '" + b.port() + "' has weight " + std::to_string(b.weight()) +
                   " (0-255)");
      if (b.ip() == 0) build_fail(where + ": backend '" + b.port() + "' has no address");
    }
  }
}

}  // namespace weft::dp
