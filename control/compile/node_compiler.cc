#include "control/compile/node_compiler.h"

#include <algorithm>
#include <span>
#include <tuple>
#include <unordered_map>

#include "control/compile/compile.h"
#include "common/source_keys.h"
#include "control/model/mac.h"

namespace weft::policy {
namespace {

constexpr uint32_t kNone = ModelIndex::kNone;

proto::Protocol to_proto(Protocol p) {
  return static_cast<proto::Protocol>(p);
}

void set_prefix(proto::Prefix* out, const Ipv4Prefix& p) {
  out->set_addr(p.addr);
  out->set_len(p.len);
}

// Sorted by address then length, without the prefixes another one covers.
std::vector<Ipv4Prefix> canonical_prefixes(std::span<const Ipv4Prefix> given) {
  std::vector<Ipv4Prefix> prefixes(given.begin(), given.end());
  std::sort(prefixes.begin(), prefixes.end(), [](const Ipv4Prefix& a, const Ipv4Prefix& b) {
    return std::tie(a.addr, a.len) < std::tie(b.addr, b.len);
  });
  std::vector<Ipv4Prefix> out;
  for (const Ipv4Prefix& p : prefixes)
    if (out.empty() || !(out.back().len <= p.len && out.back().contains(p.addr))) out.push_back(p);
  return out;
}

void add_port_ranges(google::protobuf::RepeatedPtrField<proto::PortRange>* out, Protocol protocol,
                     const PortRanges& ranges) {
  if (protocol != Protocol::kTcp && protocol != Protocol::kUdp) return;
  if (ranges.empty()) {
    auto* r = out->Add();
    r->set_lo(1);
    r->set_hi(65535);
  }
  for (const PortRange& pr : ranges) {
    auto* r = out->Add();
    r->set_lo(pr.lo);
    r->set_hi(pr.hi);
  }
}

// Builds the parts of one node's tables from a validated model.
class NodeCompiler {
 public:
  // With `sources`, records where each rule and route it compiles came
  // from (compile_sources).
  NodeCompiler(const Model& m, uint32_t node, proto::NodeSources* sources = nullptr)
      : m_(m), ix_(m.index), node_(node), self_(m.nodes[node]), sources_(sources) {}

  // What depends on the node as a whole: its name and address, peers, QoS
  // policies and gateways. Replaces what `t` held of them.
  void node_wide(proto::NodeTables& t) {
    t.set_node(self_.name);
    t.set_vtep_ip(self_.underlay_ip);
    t.clear_peers();
    peers(t);
    t.clear_qos_policies();
    qos_policies(t);
    t.clear_gateways();
    for (uint32_t gi : ix_.node_gateways[node_]) gateway(gi, *t.add_gateways());
  }

  // Everything of one network on this node: the network, the node's ports
  // in it, their security groups in it, its load balancers. Appended; the
  // caller sorts (sort_tables).
  void slice(uint32_t ni, proto::NodeTables& t) {
    network(ni, *t.add_networks());
    for (uint32_t pi : ix_.network_ports[ni])
      if (is_local(pi)) port(pi, *t.add_ports());
    security_groups(ni, t);
    for (uint32_t li : ix_.network_lbs[ni])
      load_balancer(m_.load_balancers[li], *t.add_load_balancers());
  }

  bool has_network(uint32_t ni) const {
    const auto& nets = ix_.node_networks[node_];
    return std::find(nets.begin(), nets.end(), ni) != nets.end();
  }

 private:
  bool is_local(uint32_t port) const { return ix_.port[port].node == node_; }
  uint32_t vtep_of(uint32_t port) const { return m_.nodes[ix_.port[port].node].underlay_ip; }

  void locate(uint32_t port, proto::Location* loc) const {
    if (is_local(port))
      loc->set_local_port(m_.ports[port].name);
    else
      loc->set_remote_vtep(vtep_of(port));
  }

  void peers(proto::NodeTables& t) const {
    std::vector<uint32_t> peers;
    for (uint32_t ni : ix_.node_networks[node_])
      for (uint32_t n : ix_.network_nodes[ni])
        if (n != node_) peers.push_back(n);
    std::sort(peers.begin(), peers.end(),
              [&](uint32_t a, uint32_t b) { return m_.nodes[a].name < m_.nodes[b].name; });
    peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
    for (uint32_t n : peers) {
      auto* p = t.add_peers();
      p->set_node(m_.nodes[n].name);
      p->set_ip(m_.nodes[n].underlay_ip);
    }
  }

  void network(uint32_t ni, proto::Network& out) const {
    const Network& net = m_.networks[ni];
    const uint64_t rmac = mac_to_u64(router_mac(net.vni));
    out.set_name(net.name);
    out.set_vni(net.vni);
    out.set_mtu(net.mtu);
    out.set_router_mac(rmac);

    std::vector<const Subnet*> subnets;
    for (const Subnet& s : net.subnets) subnets.push_back(&s);
    std::sort(subnets.begin(), subnets.end(),
              [](const Subnet* a, const Subnet* b) { return a->name < b->name; });
    for (const Subnet* s : subnets) {
      auto* o = out.add_subnets();
      o->set_name(s->name);
      set_prefix(o->mutable_cidr(), s->cidr);
      o->set_gateway(s->gateway);
      o->set_dhcp(s->dhcp);
      for (uint32_t d : s->dns) o->add_dns(d);
      o->set_is_public(s->is_public);
    }

    routes(ni, out);

    const std::vector<uint32_t>& ports = ix_.network_ports[ni];
    std::vector<uint32_t> by_mac(ports), by_ip(ports);
    std::sort(by_mac.begin(), by_mac.end(), [&](uint32_t a, uint32_t b) {
      return mac_to_u64(m_.ports[a].mac) < mac_to_u64(m_.ports[b].mac);
    });
    out.mutable_l2()->Reserve(static_cast<int>(ports.size()));
    for (uint32_t pi : by_mac) {
      auto* e = out.add_l2();
      e->set_mac(mac_to_u64(m_.ports[pi].mac));
      e->set_port(m_.ports[pi].name);
      locate(pi, e->mutable_location());
    }

    // ARP: every port, every subnet gateway and every VIP, by address.
    struct Arp {
      uint32_t ip;
      uint64_t mac;
      proto::ArpEntry::Owner owner;
      const std::string* name;
    };
    std::vector<Arp> arp;
    arp.reserve(ports.size() + net.subnets.size());
    for (uint32_t pi : ports)
      arp.push_back({m_.ports[pi].ip, mac_to_u64(m_.ports[pi].mac), proto::ArpEntry::PORT,
                     &m_.ports[pi].name});
    for (const Subnet& s : net.subnets)
      arp.push_back({s.gateway, rmac, proto::ArpEntry::ROUTER, &s.name});
    for (uint32_t li : ix_.network_lbs[ni])
      arp.push_back(
          {m_.load_balancers[li].vip, rmac, proto::ArpEntry::VIP, &m_.load_balancers[li].name});
    std::sort(arp.begin(), arp.end(), [](const Arp& a, const Arp& b) { return a.ip < b.ip; });
    out.mutable_arp()->Reserve(static_cast<int>(arp.size()));
    for (const Arp& a : arp) {
      auto* e = out.add_arp();
      e->set_ip(a.ip);
      e->set_mac(a.mac);
      e->set_owner(a.owner);
      e->set_name(*a.name);
    }

    std::vector<uint32_t> vteps;
    for (uint32_t pi : ports) {
      if (is_local(pi))
        out.add_flood_local_ports(m_.ports[pi].name);  // network_ports is by name
      else
        vteps.push_back(vtep_of(pi));
    }
    std::sort(vteps.begin(), vteps.end());
    vteps.erase(std::unique(vteps.begin(), vteps.end()), vteps.end());
    for (uint32_t v : vteps) out.add_flood_remote_vteps(v);
  }

  void routes(uint32_t ni, proto::Network& out) const {
    const Network& net = m_.networks[ni];
    std::vector<proto::Route> routes;
    for (const Subnet& s : net.subnets) {
      proto::Route& r = routes.emplace_back();
      set_prefix(r.mutable_prefix(), s.cidr);
      note_source(route_source_key(net.name, s.cidr.addr, s.cidr.len), net.at.file, s.at.self);
      r.set_kind(proto::Route::CONNECTED);
      r.set_subnet(s.name);
    }
    if (!net.routes.empty()) {
      std::unordered_map<uint32_t, uint32_t> by_ip;
      for (uint32_t pi : ix_.network_ports[ni]) by_ip.emplace(m_.ports[pi].ip, pi);
      for (const Route& rt : net.routes) {
        proto::Route& r = routes.emplace_back();
        set_prefix(r.mutable_prefix(), rt.prefix);
        note_source(route_source_key(net.name, rt.prefix.addr, rt.prefix.len), net.at.file, rt.at.self);
        r.set_kind(proto::Route::STATIC);
        r.set_next_hop_ip(rt.next_hop);
        auto hop = by_ip.find(rt.next_hop);  // validate() guarantees it
        if (hop == by_ip.end()) continue;
        r.set_next_hop_port(m_.ports[hop->second].name);
        r.set_next_hop_mac(mac_to_u64(m_.ports[hop->second].mac));
        locate(hop->second, r.mutable_location());
      }
    }
    if (uint32_t gi = ix_.network_gateway[ni]; gi != kNone) {
      const Gateway& g = m_.gateways[gi];
      proto::Route& r = routes.emplace_back();
      r.mutable_prefix();  // 0.0.0.0/0
      r.set_kind(proto::Route::GATEWAY);
      r.set_gateway(g.name);
      if (auto it = ix_.nodes.find(g.node); it != ix_.nodes.end() && it->second != node_)
        r.mutable_location()->set_remote_vtep(m_.nodes[it->second].underlay_ip);
    }
    std::sort(routes.begin(), routes.end(), [](const proto::Route& a, const proto::Route& b) {
      return std::make_tuple(a.prefix().addr(), a.prefix().len()) <
             std::make_tuple(b.prefix().addr(), b.prefix().len());
    });
    for (proto::Route& r : routes) out.add_routes()->Swap(&r);
  }

  void port(uint32_t pi, proto::Port& out) const {
    const Port& p = m_.ports[pi];
    const ModelIndex::PortRefs& refs = ix_.port[pi];
    const Network& net = m_.networks[refs.network];
    const Subnet& subnet = net.subnets[refs.subnet];
    out.set_name(p.name);
    out.set_network(p.network);
    out.set_vni(net.vni);
    out.set_subnet(p.subnet);
    out.set_mac(mac_to_u64(p.mac));
    out.set_ip(p.ip);
    for (const Ipv4Prefix& a :
         canonical_prefixes({p.allowed_addresses.data(), p.allowed_addresses.size()}))
      set_prefix(out.add_allowed_addresses(), a);
    if (subnet.dhcp) {
      proto::DhcpOptions* d = out.mutable_dhcp();
      d->set_ip(p.ip);
      d->set_prefix_len(subnet.cidr.len);
      d->set_gateway(subnet.gateway);
      for (uint32_t dns : subnet.dns) d->add_dns(dns);
      d->set_mtu(net.mtu);
      d->set_lease_seconds(kDhcpLeaseSeconds);
      d->set_hostname(p.name);
    }

    std::vector<uint32_t> groups(refs.groups.begin(), refs.groups.end());
    std::sort(groups.begin(), groups.end(), [&](uint32_t a, uint32_t b) {
      return m_.security_groups[a].name < m_.security_groups[b].name;
    });
    bool egress_all = groups.empty();
    for (uint32_t gi : groups) {
      const SecurityGroup& g = m_.security_groups[gi];
      out.add_security_groups(g.name);
      egress_all |= !g.has_egress;
    }
    if (!p.qos.empty()) out.set_qos_policy(p.qos);

    out.set_egress_mode(egress_all ? proto::Port::EGRESS_ALLOW_ALL
                                   : proto::Port::EGRESS_ALLOW_LISTED);
  }

  // Each group the node's ports in network `ni` use, once.
  void security_groups(uint32_t ni, proto::NodeTables& t) {
    std::vector<uint32_t> used;
    for (uint32_t pi : ix_.network_ports[ni])
      if (is_local(pi))
        used.insert(used.end(), ix_.port[pi].groups.begin(), ix_.port[pi].groups.end());
    std::sort(used.begin(), used.end(), [&](uint32_t a, uint32_t b) {
      return m_.security_groups[a].name < m_.security_groups[b].name;
    });
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (uint32_t gi : used) {
      const SecurityGroup& g = m_.security_groups[gi];
      proto::SecurityGroup* o = t.add_security_groups();
      o->set_name(g.name);
      o->set_network(m_.networks[ni].name);
      o->set_vni(m_.networks[ni].vni);
      for (bool egress : {false, true}) {
        const Loc list = egress ? g.at.egress : g.at.ingress;
        note_source(sg_list_source_key(m_.networks[ni].name, g.name, egress), g.at.file,
                    list.known() ? list : g.at.self);
      }
      for (const SecurityRule& r : g.ingress) rule(r, ni, g, false, o->mutable_ingress());
      o->set_restricts_egress(g.has_egress);
      for (const SecurityRule& r : g.egress) rule(r, ni, g, true, o->mutable_egress());
    }
  }

  void rule(const SecurityRule& r, uint32_t network, const SecurityGroup& group, bool egress,
            google::protobuf::RepeatedPtrField<proto::SecurityRule>* into) {
    std::span<const Ipv4Prefix> remote(r.remote.data(), r.remote.size());
    if (!r.remote_group.empty()) {
      remote = members(m_.index.groups.at(r.remote_group), network);
      // No member in this network: the rule matches nothing here.
      if (remote.empty()) return;
    } else if (r.remote.empty()) {
      remote = kAnywhere;
    }
    note_source(sg_rule_source_key(m_.networks[network].name, group.name, egress,
                                   static_cast<uint32_t>(into->size())),
                group.at.file, r.at.self);
    proto::SecurityRule* o = into->Add();
    o->set_protocol(to_proto(r.protocol));
    add_port_ranges(o->mutable_ports(), r.protocol, r.ports);
    if (r.icmp_type) o->set_icmp_type(*r.icmp_type);
    if (r.icmp_code) o->set_icmp_code(*r.icmp_code);
    if (r.remote_group.empty()) {
      for (const Ipv4Prefix& p : canonical_prefixes(remote)) set_prefix(o->add_remote(), p);
    } else {
      o->set_remote_group(r.remote_group);
      for (const Ipv4Prefix& p : remote) set_prefix(o->add_remote(), p);
    }
  }

  // The /32 of every member of `group` in `network`, sorted; computed once
  // per node for each (group, network) the node's rules name.
  const std::vector<Ipv4Prefix>& members(uint32_t group, uint32_t network) {
    auto [it, fresh] = members_.try_emplace(uint64_t{group} << 32 | network);
    if (fresh) {
      for (uint32_t pi : ix_.group_members[group])
        if (ix_.port[pi].network == network) it->second.push_back({m_.ports[pi].ip, 32});
      std::sort(it->second.begin(), it->second.end(),
                [](const Ipv4Prefix& a, const Ipv4Prefix& b) { return a.addr < b.addr; });
    }
    return it->second;
  }

  void qos_policies(proto::NodeTables& t) const {
    std::vector<uint32_t> used;
    for (uint32_t pi : ix_.node_ports[node_])
      if (ix_.port[pi].qos != kNone) used.push_back(ix_.port[pi].qos);
    std::sort(used.begin(), used.end(), [&](uint32_t a, uint32_t b) {
      return m_.qos_policies[a].name < m_.qos_policies[b].name;
    });
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (uint32_t qi : used) {
      const QosPolicy& q = m_.qos_policies[qi];
      proto::QosPolicy* o = t.add_qos_policies();
      o->set_name(q.name);
      if (q.egress) {
        o->mutable_egress()->set_rate_bps(q.egress->rate_bps);
        o->mutable_egress()->set_burst_bytes(q.egress->burst_bytes);
      }
      if (q.ingress) {
        o->mutable_ingress()->set_rate_bps(q.ingress->rate_bps);
        o->mutable_ingress()->set_burst_bytes(q.ingress->burst_bytes);
      }
      for (const QosClass& c : q.classes) {
        proto::QosClass* oc = o->add_classes();
        oc->set_name(c.name);
        oc->set_priority(c.priority == Priority::kHigh  ? proto::QosClass::HIGH
                         : c.priority == Priority::kLow ? proto::QosClass::LOW
                                                        : proto::QosClass::NORMAL);
        std::vector<uint8_t> dscp = c.dscp;
        std::sort(dscp.begin(), dscp.end());
        dscp.erase(std::unique(dscp.begin(), dscp.end()), dscp.end());
        for (uint8_t d : dscp) oc->add_dscp(d);
        oc->set_protocol(to_proto(c.protocol));
        if (!c.ports.empty()) add_port_ranges(oc->mutable_ports(), c.protocol, c.ports);
        oc->set_rate_bps(c.rate_bps);
      }
    }
  }

  void load_balancer(const LoadBalancer& lb, proto::LoadBalancer& out) const {
    out.set_name(lb.name);
    out.set_network(lb.network);
    out.set_vni(m_.networks[ix_.networks.at(lb.network)].vni);
    out.set_vip(lb.vip);
    std::vector<const Listener*> listeners;
    for (const Listener& l : lb.listeners) listeners.push_back(&l);
    std::sort(listeners.begin(), listeners.end(), [](const Listener* a, const Listener* b) {
      return std::tie(a->protocol, a->port) < std::tie(b->protocol, b->port);
    });
    for (const Listener* l : listeners) {
      proto::Listener* o = out.add_listeners();
      o->set_protocol(to_proto(l->protocol));
      o->set_port(l->port);
      o->set_target_port(l->target_port);
    }
    std::vector<const Backend*> backends;
    for (const Backend& b : lb.backends) backends.push_back(&b);
    std::sort(backends.begin(), backends.end(),
              [](const Backend* a, const Backend* b) { return a->port < b->port; });
    for (const Backend* b : backends) {
      uint32_t pi = ix_.ports.at(b->port);
      const Port& p = m_.ports[pi];
      proto::Backend* o = out.add_backends();
      o->set_port(p.name);
      o->set_ip(p.ip);
      o->set_mac(mac_to_u64(p.mac));
      o->set_node(p.node);
      locate(pi, o->mutable_location());
      o->set_weight(b->weight);
    }
    if (const auto& h = lb.health_check) {
      proto::HealthCheck* o = out.mutable_health_check();
      o->set_protocol(h->protocol == HealthProtocol::kIcmp ? proto::PROTOCOL_ICMP : proto::PROTOCOL_TCP);
      if (h->protocol == HealthProtocol::kHttp) {
        o->set_http_path(h->path);
        o->set_http_status(h->expect_status);
      }
      o->set_port(h->port);
      o->set_interval_ms(static_cast<uint32_t>(std::min<uint64_t>(h->interval_ms, UINT32_MAX)));
      o->set_timeout_ms(static_cast<uint32_t>(std::min<uint64_t>(h->timeout_ms, UINT32_MAX)));
      o->set_unhealthy_threshold(h->unhealthy_threshold);
      o->set_healthy_threshold(h->healthy_threshold);
    }
  }

  void gateway(uint32_t gi, proto::Gateway& out) const {
    const Gateway& g = m_.gateways[gi];
    out.set_name(g.name);
    set_prefix(out.mutable_external_cidr(), g.external_cidr);
    out.set_external_ip(g.external_ip);
    out.set_external_next_hop(g.external_next_hop);
    std::vector<uint32_t> networks;
    for (const std::string& n : g.networks) networks.push_back(ix_.networks.at(n));
    std::sort(networks.begin(), networks.end(),
              [&](uint32_t a, uint32_t b) { return m_.networks[a].name < m_.networks[b].name; });
    for (uint32_t ni : networks) {
      const Network& net = m_.networks[ni];
      out.add_networks(net.name);
      std::vector<const Subnet*> priv;
      for (const Subnet& s : net.subnets)
        if (!s.is_public) priv.push_back(&s);
      std::sort(priv.begin(), priv.end(),
                [](const Subnet* a, const Subnet* b) { return a->cidr.addr < b->cidr.addr; });
      for (const Subnet* s : priv) {
        proto::SnatSource* o = out.add_snat();
        o->set_network(net.name);
        o->set_vni(net.vni);
        o->set_subnet(s->name);
        set_prefix(o->mutable_prefix(), s->cidr);
      }
    }
    std::vector<const FloatingIp*> fips;
    for (const FloatingIp& f : g.floating_ips) fips.push_back(&f);
    std::sort(fips.begin(), fips.end(),
              [](const FloatingIp* a, const FloatingIp* b) { return a->ip < b->ip; });
    for (const FloatingIp* f : fips) {
      uint32_t pi = ix_.ports.at(f->port);
      const Port& p = m_.ports[pi];
      proto::FloatingIp* o = out.add_floating_ips();
      o->set_external_ip(f->ip);
      o->set_port(p.name);
      o->set_network(p.network);
      o->set_vni(m_.networks[ix_.port[pi].network].vni);
      o->set_ip(p.ip);
      o->set_mac(mac_to_u64(p.mac));
      locate(pi, o->mutable_location());
    }
  }

  void note_source(const std::string& key, uint32_t file, Loc at) const {
    if (sources_ == nullptr || !at.known()) return;
    proto::SourcePos& pos = (*sources_->mutable_entries())[key];
    pos.set_file(file < m_.files.size() ? m_.files[file] : std::string());
    pos.set_line(at.line);
    pos.set_column(at.column);
  }

  static constexpr Ipv4Prefix kAnywhere[] = {{0, 0}};

  const Model& m_;
  const ModelIndex& ix_;
  const uint32_t node_;
  const Node& self_;
  std::unordered_map<uint64_t, std::vector<Ipv4Prefix>> members_;
  proto::NodeSources* sources_;
};

// Sorts the pointers of a repeated field; the messages stay where they are.
template <class T, class Less>
void sort_field(google::protobuf::RepeatedPtrField<T>* field, Less less) {
  std::sort(field->pointer_begin(), field->pointer_end(),
            [&](const T* a, const T* b) { return less(*a, *b); });
}

// Deletes the entries `drop` selects, keeping the others in order.
template <class T, class Drop>
void erase_if(google::protobuf::RepeatedPtrField<T>* field, Drop drop) {
  auto kept = std::stable_partition(field->pointer_begin(), field->pointer_end(),
                                    [&](const T* e) { return !drop(*e); });
  int first = static_cast<int>(kept - field->pointer_begin());
  field->DeleteSubrange(first, field->size() - first);
}

}  // namespace

proto::NodeTables build_node_tables(const Model& m, uint32_t node) {
  proto::NodeTables t;
  NodeCompiler c(m, node);
  c.node_wide(t);
  for (uint32_t ni : m.index.node_networks[node]) c.slice(ni, t);
  sort_tables(t);
  return t;
}

proto::NodeSources build_node_sources(const Model& m, uint32_t node) {
  proto::NodeSources sources;
  proto::NodeTables scratch;
  NodeCompiler c(m, node, &sources);
  for (uint32_t ni : m.index.node_networks[node]) c.slice(ni, scratch);
  return sources;
}

void rebuild_node_wide(const Model& m, uint32_t node, proto::NodeTables& t) {
  NodeCompiler(m, node).node_wide(t);
}

void remove_network_slice(std::string_view network, proto::NodeTables& t) {
  erase_if(t.mutable_networks(), [&](const proto::Network& n) { return n.name() == network; });
  erase_if(t.mutable_ports(), [&](const proto::Port& p) { return p.network() == network; });
  erase_if(t.mutable_security_groups(),
           [&](const proto::SecurityGroup& g) { return g.network() == network; });
  erase_if(t.mutable_load_balancers(),
           [&](const proto::LoadBalancer& lb) { return lb.network() == network; });
}

void add_network_slice(const Model& m, uint32_t node, uint32_t network, proto::NodeTables& t) {
  NodeCompiler c(m, node);
  if (c.has_network(network)) c.slice(network, t);
}

void sort_tables(proto::NodeTables& t) {
  auto by_name = [](const auto& a, const auto& b) { return a.name() < b.name(); };
  sort_field(t.mutable_networks(), by_name);
  sort_field(t.mutable_ports(), by_name);
  sort_field(t.mutable_security_groups(),
             [](const proto::SecurityGroup& a, const proto::SecurityGroup& b) {
               return std::tie(a.network(), a.name()) < std::tie(b.network(), b.name());
             });
  sort_field(t.mutable_load_balancers(), by_name);
}

}  // namespace weft::policy
