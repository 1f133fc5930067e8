#include "control/model/validate.h"

#include <algorithm>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "common/str_cat.h"
#include "common/units.h"
#include "common/yaml_doc.h"
#include "control/model/mac.h"
#include "control/model/values.h"

namespace weft::policy {
namespace {

using NameMap = ModelIndex::NameMap;
constexpr uint32_t kNone = ModelIndex::kNone;

// Suggestions scan every name of a kind; past this many candidates the scan
// would cost more than it helps (and hostile input could make it quadratic).
constexpr size_t kMaxSuggestionCandidates = 1024;

// (an entity index, a value) as a hash key: a port address or MAC within
// its network, a network on a node.
using Pair = std::pair<uint32_t, uint64_t>;
struct PairHash {
  size_t operator()(const Pair& p) const {
    return std::hash<uint64_t>{}(p.second * 0x9e3779b97f4a7c15ull ^ p.first);
  }
};
template <class V>
using PairMap = std::unordered_map<Pair, V, PairHash>;

// A value (an address, a MAC) held by a port in a network. Sorting puts the
// holders of one value together, in policy order.
struct Owned {
  uint32_t network;
  uint64_t value;
  uint32_t port;
  bool same_key(const Owned& o) const { return network == o.network && value == o.value; }
  friend auto operator<=>(const Owned&, const Owned&) = default;
};

bool is_unicast(uint32_t ip) {
  return ip != 0 && ip < 0xe0000000u;
}

class Validator {
 public:
  Validator(Model& m, Diagnostics& d) : m_(m), d_(d), ix_(m.index) {}

  bool run() {
    size_t before = d_.size();
    ix_ = ModelIndex{};
    register_names(m_.nodes, "node", ix_.nodes);
    register_names(m_.networks, "network", ix_.networks);
    register_names(m_.ports, "port", ix_.ports);
    register_names(m_.security_groups, "security group", ix_.groups);
    register_names(m_.qos_policies, "QoS policy", ix_.qos);
    register_names(m_.load_balancers, "load balancer", ix_.lbs);
    register_names(m_.gateways, "gateway", ix_.gateways);
    nodes();
    networks();
    ports();
    security_groups();
    qos_policies();
    gateways();  // before routes and load balancers: they check against it
    routes();
    load_balancers();
    relations();
    return d_.size() == before;
  }

 private:
  void error(uint32_t file, Loc at, std::string message) {
    d_.error(m_.pos(file, at), std::move(message));
  }
  std::string where(uint32_t file, Loc at) const {
    SourcePos p = m_.pos(file, at);
    return p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
  }

  template <class T>
  void register_names(const std::vector<T>& kind, std::string_view what, NameMap& map) {
    map.reserve(kind.size());
    for (uint32_t i = 0; i < kind.size(); ++i) {
      const T& e = kind[i];
      if (!e.at.name.known()) continue;
      auto [it, fresh] = map.emplace(e.name, i);
      if (fresh) continue;
      const T& first = kind[it->second];
      error(e.at.file, e.at.name,
            "duplicate " + std::string(what) + " name '" + e.name + "' (first defined at " +
                where(first.at.file, first.at.name) + ")");
    }
  }

  static std::string suggestion(std::string_view name, const std::vector<std::string_view>& known) {
    if (known.size() > kMaxSuggestionCandidates) return "";
    std::string hint = did_you_mean(name, std::span<const std::string_view>(known));
    return hint.empty() ? "" : "; did you mean '" + hint + "'?";
  }

  // The index of `name` in `map`, or kNone after reporting it missing. An
  // unparsed reference (unknown position) is skipped silently.
  uint32_t resolve(const NameMap& map, std::string_view kind, const std::string& name,
                   uint32_t file, Loc at) {
    if (!at.known()) return kNone;
    if (auto it = map.find(name); it != map.end()) return it->second;
    std::vector<std::string_view> known;
    if (map.size() <= kMaxSuggestionCandidates)
      for (const auto& [n, i] : map) known.push_back(n);
    std::sort(known.begin(), known.end());  // a deterministic pick among ties
    error(file, at, "no " + std::string(kind) + " named '" + name + "'" + suggestion(name, known));
    return kNone;
  }

  // Is `ip` a usable host address of `s`: inside, and not its network,
  // broadcast or gateway address? Reports why not, as `what`.
  bool check_host_address(const Subnet& s, uint32_t ip, std::string_view what, uint32_t file,
                          Loc at) {
    const char* problem = !s.cidr.contains(ip)       ? " is outside "
                          : ip == s.cidr.network()   ? " is the network address of "
                          : ip == s.cidr.broadcast() ? " is the broadcast address of "
                          : ip == s.gateway          ? " is the gateway address of "
                                                     : nullptr;
    if (!problem) return true;
    error(file, at,
          str_cat({what, " ", format_ipv4(ip), problem, "subnet '", s.name, "' (",
                   format_prefix(s.cidr), ")"}));
    return false;
  }

  void nodes() {
    std::unordered_map<uint32_t, uint32_t> by_ip;
    for (uint32_t i = 0; i < m_.nodes.size(); ++i) {
      const Node& n = m_.nodes[i];
      if (!n.at.underlay_ip.known()) continue;
      if (!is_unicast(n.underlay_ip)) {
        error(n.at.file, n.at.underlay_ip,
              "underlay_ip " + format_ipv4(n.underlay_ip) + " is not a unicast address");
        continue;
      }
      auto [it, fresh] = by_ip.emplace(n.underlay_ip, i);
      if (!fresh) {
        const Node& first = m_.nodes[it->second];
        error(n.at.file, n.at.underlay_ip,
              "underlay_ip " + format_ipv4(n.underlay_ip) + " is already used by node '" +
                  first.name + "' (" + where(first.at.file, first.at.underlay_ip) + ")");
      }
    }
  }

  void networks() {
    std::unordered_map<uint32_t, uint32_t> by_vni;
    for (uint32_t i = 0; i < m_.networks.size(); ++i) {
      Network& n = m_.networks[i];
      if (n.at.vni.known()) {
        auto [it, fresh] = by_vni.emplace(n.vni, i);
        if (!fresh) {
          const Network& first = m_.networks[it->second];
          error(n.at.file, n.at.vni,
                "vni " + std::to_string(n.vni) + " is already used by network '" + first.name +
                    "' (" + where(first.at.file, first.at.vni) + ")");
        }
      }
      subnets(n);
    }
  }

  void subnets(const Network& n) {
    const uint32_t file = n.at.file;
    std::unordered_map<std::string_view, const Subnet*> by_name;
    std::vector<const Subnet*> sized;
    for (const Subnet& s : n.subnets) {
      if (s.at.name.known()) {
        auto [it, fresh] = by_name.emplace(s.name, &s);
        if (!fresh)
          error(file, s.at.name,
                "duplicate subnet name '" + s.name + "' in network '" + n.name +
                    "' (first defined at " + where(file, it->second->at.name) + ")");
      }
      if (!s.at.cidr.known()) continue;
      if (s.cidr.len > 30) {
        error(file, s.at.cidr,
              "subnet " + format_prefix(s.cidr) +
                  " is too small: it needs a network, a gateway, a host and a broadcast address "
                  "(/30 at most)");
        continue;
      }
      sized.push_back(&s);
      Loc gw_at = s.at.gateway.known() ? s.at.gateway : s.at.cidr;
      const char* problem = !s.cidr.contains(s.gateway) ? " is outside subnet "
                            : s.gateway == s.cidr.network() || s.gateway == s.cidr.broadcast()
                                ? " is the network or broadcast address of subnet "
                                : nullptr;
      if (problem)
        error(file, gw_at,
              str_cat({"gateway ", format_ipv4(s.gateway), problem, format_prefix(s.cidr)}));
    }
    // Overlaps by a sweep over the subnets sorted by start: one overlaps an
    // earlier one iff it starts before the furthest end seen so far.
    std::sort(sized.begin(), sized.end(), [](const Subnet* a, const Subnet* b) {
      return a->cidr.network() != b->cidr.network() ? a->cidr.network() < b->cidr.network()
                                                    : a->cidr.len < b->cidr.len;
    });
    const Subnet* widest = nullptr;
    for (const Subnet* s : sized) {
      if (widest && s->cidr.network() <= widest->cidr.broadcast()) {
        // Report at whichever of the two was written later.
        const Subnet* later =
            s->at.cidr.line > widest->at.cidr.line || (s->at.cidr.line == widest->at.cidr.line &&
                                                       s->at.cidr.column > widest->at.cidr.column)
                ? s
                : widest;
        const Subnet* other = later == s ? widest : s;
        error(file, later->at.cidr,
              "subnet '" + later->name + "' (" + format_prefix(later->cidr) +
                  ") overlaps subnet '" + other->name + "' (" + format_prefix(other->cidr) +
                  ") of network '" + n.name + "'");
      }
      if (!widest || s->cidr.broadcast() > widest->cidr.broadcast()) widest = s;
    }
  }

  void ports() {
    ix_.port.resize(m_.ports.size());
    ip_owner_.reserve(m_.ports.size());
    std::vector<Owned> macs;
    macs.reserve(m_.ports.size());
    for (uint32_t i = 0; i < m_.ports.size(); ++i) {
      const Port& p = m_.ports[i];
      ModelIndex::PortRefs& refs = ix_.port[i];
      const uint32_t file = p.at.file;
      refs.node = resolve(ix_.nodes, "node", p.node, file, p.at.node);
      refs.network = resolve(ix_.networks, "network", p.network, file, p.at.network);
      if (p.at.qos.known()) refs.qos = resolve(ix_.qos, "QoS policy", p.qos, file, p.at.qos);
      for (size_t g = 0; g < p.security_groups.size(); ++g) {
        const std::string& name = p.security_groups[g];
        uint32_t gi = resolve(ix_.groups, "security group", name, file, p.at.security_groups[g]);
        if (gi == kNone) continue;
        if (std::find(refs.groups.begin(), refs.groups.end(), gi) != refs.groups.end())
          error(file, p.at.security_groups[g], "security group '" + name + "' is listed twice");
        else
          refs.groups.push_back(gi);
      }
      if (refs.network == kNone) continue;
      const Network& net = m_.networks[refs.network];
      refs.subnet = find_subnet(net, p);
      if (!p.at.ip.known()) continue;
      if (refs.subnet != kNone && net.subnets[refs.subnet].at.cidr.known())
        check_host_address(net.subnets[refs.subnet], p.ip, "address", p.at.file, p.at.ip);
      ip_owner_.push_back({refs.network, p.ip, i});
      // A derived MAC is reported at the address it comes from.
      Loc mac_at = p.mac_derived ? p.at.ip : p.at.mac;
      if (!mac_at.known()) continue;
      macs.push_back({refs.network, mac_to_u64(p.mac), i});
      if (net.at.vni.known() && p.mac == router_mac(net.vni))
        error(p.at.file, mac_at, mac_of(p) + " is the router MAC of network '" + net.name + "'");
    }
    // Addresses, then MACs (derived ones included), unique within their
    // network: sorted, each duplicate is reported against the first holder.
    std::vector<bool> address_taken(m_.ports.size());
    for_each_duplicate(ip_owner_, [&](const Port& first, const Port& p, uint32_t i) {
      address_taken[i] = true;
      error(p.at.file, p.at.ip,
            "address " + format_ipv4(p.ip) + " is already used by port '" + first.name +
                "' in network '" + p.network + "' (" + where(first.at.file, first.at.ip) + ")");
    });
    for_each_duplicate(macs, [&](const Port& first, const Port& p, uint32_t i) {
      if (address_taken[i]) return;  // the same mistake, already reported
      error(p.at.file, p.mac_derived ? p.at.ip : p.at.mac,
            mac_of(p) + " is already used by port '" + first.name + "' in network '" + p.network +
                "' (" + where(first.at.file, first.mac_derived ? first.at.ip : first.at.mac) + ")");
    });
  }

  static std::string mac_of(const Port& p) {
    return str_cat({p.mac_derived ? "derived MAC " : "MAC ", format_mac(p.mac)});
  }

  // Sorts `owned` and calls report(first holder, other holder, its index)
  // for each value held twice in a network.
  template <class Report>
  void for_each_duplicate(std::vector<Owned>& owned, Report report) {
    std::sort(owned.begin(), owned.end());
    for (size_t k = 1; k < owned.size(); ++k) {
      size_t first = k - 1;
      while (first > 0 && owned[first - 1].same_key(owned[k])) --first;
      if (owned[first].same_key(owned[k]))
        report(m_.ports[owned[first].port], m_.ports[owned[k].port], owned[k].port);
    }
  }

  // The port holding `ip` in network `ni`, or kNone (after ports()).
  uint32_t port_at(uint32_t ni, uint32_t ip) const {
    auto it = std::lower_bound(ip_owner_.begin(), ip_owner_.end(), Owned{ni, ip, 0});
    return it != ip_owner_.end() && it->same_key({ni, ip, 0}) ? it->port : kNone;
  }

  uint32_t find_subnet(const Network& net, const Port& p) {
    if (!p.at.subnet.known()) return kNone;
    std::vector<std::string_view> names;
    for (uint32_t s = 0; s < net.subnets.size(); ++s) {
      if (net.subnets[s].name == p.subnet) return s;
      names.push_back(net.subnets[s].name);
    }
    error(p.at.file, p.at.subnet,
          "no subnet named '" + p.subnet + "' in network '" + net.name + "'" +
              suggestion(p.subnet, names));
    return kNone;
  }

  void security_groups() {
    for (const SecurityGroup& g : m_.security_groups) {
      for (const SecurityRule& r : g.ingress) rule(g, r);
      for (const SecurityRule& r : g.egress) rule(g, r);
    }
  }

  void rule(const SecurityGroup& g, const SecurityRule& r) {
    const uint32_t file = g.at.file;
    bool l4 = r.protocol == Protocol::kTcp || r.protocol == Protocol::kUdp;
    if (r.at.protocol.known() && r.at.ports.known() && !l4)
      error(file, r.at.ports,
            "'ports' needs protocol tcp or udp, not " + std::string(protocol_name(r.protocol)));
    if (r.at.protocol.known() && r.at.icmp.known() && r.protocol != Protocol::kIcmp)
      error(file, r.at.icmp, "'icmp_type' and 'icmp_code' need protocol icmp");
    else if (r.icmp_code && !r.icmp_type)
      error(file, r.at.icmp, "'icmp_code' needs an 'icmp_type'");
    resolve(ix_.groups, "security group", r.remote_group, file, r.at.remote_group);
  }

  void qos_policies() {
    for (const QosPolicy& q : m_.qos_policies) {
      const uint32_t file = q.at.file;
      if (!q.egress && !q.ingress)
        error(file, q.at.self,
              "QoS policy '" + q.name + "' limits nothing: give it 'egress' and/or 'ingress'");
      uint64_t cap = UINT64_MAX;
      for (const auto& limit : {q.egress, q.ingress}) {
        if (!limit) continue;
        if (limit->at.rate.known() && limit->rate_bps == 0)
          error(file, limit->at.rate, "a rate must be positive");
        if (limit->at.rate.known() && limit->rate_bps > 0) cap = std::min(cap, limit->rate_bps);
        if (limit->at.burst.known() && limit->burst_bytes < 1500)
          error(file, limit->at.burst,
                "burst " + format_size_bytes(limit->burst_bytes) +
                    " cannot pass a full-size frame; give at least 1500b");
      }
      std::unordered_map<std::string_view, const QosClass*> names;
      for (const QosClass& c : q.classes) {
        if (c.at.name.known() && !names.emplace(c.name, &c).second)
          error(file, c.at.name,
                "duplicate class name '" + c.name + "' in QoS policy '" + q.name + "'");
        if (c.at.match.known() && c.dscp.empty() && !c.at.protocol.known() && !c.at.ports.known())
          error(file, c.at.match,
                "an empty 'match' would take all traffic: give dscp, protocol or ports");
        bool l4 = c.protocol == Protocol::kTcp || c.protocol == Protocol::kUdp;
        if (c.at.ports.known() && !l4) error(file, c.at.ports, "'ports' needs protocol tcp or udp");
        if (c.at.rate.known() && c.rate_bps == 0)
          error(file, c.at.rate, "a rate must be positive");
        else if (c.at.rate.known() && c.rate_bps > cap)
          error(file, c.at.rate,
                "class rate " + format_rate_bps(c.rate_bps) + " exceeds the policy's rate " +
                    format_rate_bps(cap));
      }
      if (q.classes.size() > kQosMaxClasses && q.classes[kQosMaxClasses].at.self.known())
        error(file, q.classes[kQosMaxClasses].at.self,
              "QoS policy '" + q.name + "' has " + std::to_string(q.classes.size()) +
                  " classes; the scheduler has traffic classes for " + std::to_string(kQosMaxClasses) +
                  " (one more serves unclassified traffic)");
      ambiguous_classes(q);
    }
    qos_bursts_against_mtus();
  }

  // Traffic classes of rte_sched per pipe (13), less the one unclassified
  // traffic takes; dataplane/qos/qos_table.h refuses more too.
  static constexpr size_t kQosMaxClasses = 12;

  // Two classes that match on the same fields and overlap on every one of
  // them (dscp 46 and dscp 34,46; tcp 800-900 and tcp 873) leave the
  // traffic both take to their order: an error. Classes on different
  // fields (dscp 46 and tcp 873) are not: the narrower kind is the point.
  void ambiguous_classes(const QosPolicy& q) {
    auto fields = [](const QosClass& c) {
      return (c.dscp.empty() ? 0 : 1) | (c.protocol == Protocol::kAny ? 0 : 2) | (c.ports.empty() ? 0 : 4);
    };
    auto overlap = [](const QosClass& a, const QosClass& b) {
      if (!a.dscp.empty() &&
          std::none_of(a.dscp.begin(), a.dscp.end(), [&](uint8_t d) {
            return std::find(b.dscp.begin(), b.dscp.end(), d) != b.dscp.end();
          }))
        return false;
      if (a.protocol != b.protocol) return false;
      if (a.ports.empty()) return true;
      for (const PortRange& x : a.ports)
        for (const PortRange& y : b.ports)
          if (x.lo <= y.hi && y.lo <= x.hi) return true;
      return false;
    };
    for (size_t j = 1; j < q.classes.size(); ++j) {
      const QosClass& b = q.classes[j];
      for (size_t i = 0; i < j; ++i) {
        const QosClass& a = q.classes[i];
        if (fields(a) != fields(b) || !overlap(a, b)) continue;
        error(q.at.file, b.at.match.known() ? b.at.match : b.at.self,
              "class '" + b.name + "' overlaps class '" + a.name +
                  "': both match on the same fields and some traffic fits both; make them disjoint");
        break;
      }
    }
  }

  // A limit's burst must hold a full frame of every network a port using
  // the policy joins (its MTU and the Ethernet header): a meter whose
  // bucket is smaller never passes one.
  void qos_bursts_against_mtus() {
    std::vector<std::vector<bool>> told(m_.qos_policies.size(), std::vector<bool>(m_.networks.size()));
    for (uint32_t pi = 0; pi < m_.ports.size(); ++pi) {
      const uint32_t qi = ix_.port[pi].qos, ni = ix_.port[pi].network;
      if (qi == kNone || ni == kNone || told[qi][ni]) continue;
      told[qi][ni] = true;
      const QosPolicy& q = m_.qos_policies[qi];
      const uint64_t frame = uint64_t{m_.networks[ni].mtu} + 14;
      for (const auto& limit : {q.egress, q.ingress}) {
        // Under 1500b the check above has said so already.
        if (!limit || !limit->at.burst.known() || limit->burst_bytes < 1500 || limit->burst_bytes >= frame)
          continue;
        error(q.at.file, limit->at.burst,
              "burst " + format_size_bytes(limit->burst_bytes) + " is smaller than a full frame of network '" +
                  m_.networks[ni].name + "' (MTU " + std::to_string(m_.networks[ni].mtu) +
                  " and 14b of Ethernet header), which port '" + m_.ports[pi].name + "' joins");
      }
    }
  }

  void gateways() {
    std::unordered_map<uint32_t, std::pair<uint32_t, Loc>> external_ips;  // ip -> gateway, where
    std::unordered_map<uint32_t, uint32_t> fip_ports;                     // port -> gateway
    ix_.network_gateway.assign(m_.networks.size(), kNone);
    for (uint32_t gi = 0; gi < m_.gateways.size(); ++gi) {
      const Gateway& g = m_.gateways[gi];
      const uint32_t file = g.at.file;
      resolve(ix_.nodes, "node", g.node, file, g.at.node);
      bool cidr_ok = g.at.external_cidr.known();
      if (cidr_ok && g.external_cidr.len > 30) {
        error(file, g.at.external_cidr,
              "external_cidr " + format_prefix(g.external_cidr) + " is too small (/30 at most)");
        cidr_ok = false;
      }
      auto external_address = [&](uint32_t ip, Loc at, std::string_view what) {
        if (!cidr_ok || !at.known()) return;
        const char* problem = !g.external_cidr.contains(ip) ? " is outside external_cidr "
                              : ip == g.external_cidr.network() || ip == g.external_cidr.broadcast()
                                  ? " is the network or broadcast address of "
                                  : nullptr;
        if (problem)
          error(file, at,
                str_cat({what, " ", format_ipv4(ip), problem, format_prefix(g.external_cidr)}));
      };
      external_address(g.external_ip, g.at.external_ip, "external_ip");
      external_address(g.external_next_hop, g.at.external_next_hop, "external_next_hop");
      if (g.at.external_ip.known() && g.at.external_next_hop.known() &&
          g.external_ip == g.external_next_hop)
        error(file, g.at.external_next_hop, "external_next_hop is the gateway's own external_ip");
      if (g.at.external_ip.known()) {
        auto [it, fresh] = external_ips.emplace(g.external_ip, std::pair{gi, g.at.external_ip});
        if (!fresh)
          error(file, g.at.external_ip,
                "external_ip " + format_ipv4(g.external_ip) + " is already used by gateway '" +
                    m_.gateways[it->second.first].name + "'");
      }

      std::vector<uint32_t> served;
      for (size_t k = 0; k < g.networks.size(); ++k) {
        uint32_t ni = resolve(ix_.networks, "network", g.networks[k], file, g.at.networks[k]);
        if (ni == kNone) continue;
        if (std::find(served.begin(), served.end(), ni) != served.end()) {
          error(file, g.at.networks[k], "network '" + g.networks[k] + "' is listed twice");
          continue;
        }
        served.push_back(ni);
        uint32_t& owner = ix_.network_gateway[ni];
        if (owner != kNone)
          error(file, g.at.networks[k],
                "network '" + g.networks[k] + "' is already served by gateway '" +
                    m_.gateways[owner].name + "'");
        else
          owner = gi;
      }

      for (const FloatingIp& fip : g.floating_ips) {
        if (fip.at.ip.known()) {
          external_address(fip.ip, fip.at.ip, "floating IP");
          if (fip.ip == g.external_ip || fip.ip == g.external_next_hop)
            error(file, fip.at.ip,
                  "floating IP " + format_ipv4(fip.ip) +
                      " is the gateway's external_ip or external_next_hop");
          auto [it, fresh] = external_ips.emplace(fip.ip, std::pair{gi, fip.at.ip});
          if (!fresh && fip.ip != g.external_ip)
            error(file, fip.at.ip,
                  "floating IP " + format_ipv4(fip.ip) + " is already used by gateway '" +
                      m_.gateways[it->second.first].name + "' (" +
                      where(m_.gateways[it->second.first].at.file, it->second.second) + ")");
        }
        uint32_t pi = resolve(ix_.ports, "port", fip.port, file, fip.at.port);
        if (pi == kNone) continue;
        const Port& p = m_.ports[pi];
        const ModelIndex::PortRefs& refs = ix_.port[pi];
        if (refs.network != kNone &&
            std::find(served.begin(), served.end(), refs.network) == served.end())
          error(file, fip.at.port,
                "port '" + p.name + "' is in network '" + p.network + "', which gateway '" +
                    g.name + "' does not serve");
        else if (refs.subnet != kNone && !m_.networks[refs.network].subnets[refs.subnet].is_public)
          error(file, fip.at.port,
                "port '" + p.name + "' is in private subnet '" + p.subnet +
                    "'; floating IPs are for ports of public subnets");
        auto [it, fresh] = fip_ports.emplace(pi, gi);
        if (!fresh) error(file, fip.at.port, "port '" + p.name + "' already has a floating IP");
      }
    }
  }

  void routes() {
    for (uint32_t ni = 0; ni < m_.networks.size(); ++ni) {
      const Network& n = m_.networks[ni];
      const uint32_t file = n.at.file;
      std::unordered_map<uint64_t, const Route*> seen;
      for (const Route& r : n.routes) {
        if (r.at.prefix.known()) {
          auto [it, fresh] = seen.emplace(uint64_t{r.prefix.addr} << 8 | r.prefix.len, &r);
          if (!fresh)
            error(file, r.at.prefix,
                  "duplicate route " + format_prefix(r.prefix) + " (first at " +
                      where(file, it->second->at.prefix) + ")");
          for (const Subnet& s : n.subnets) {
            if (s.at.cidr.known() && r.prefix.len >= s.cidr.len && s.cidr.contains(r.prefix.addr))
              error(file, r.at.prefix,
                    "route " + format_prefix(r.prefix) + " lies inside subnet '" + s.name + "' (" +
                        format_prefix(s.cidr) + "), whose addresses are delivered directly");
          }
          if (r.prefix.len == 0 && ix_.network_gateway[ni] != kNone)
            error(file, r.at.prefix,
                  "a default route conflicts with gateway '" +
                      m_.gateways[ix_.network_gateway[ni]].name + "', which serves this network");
        }
        if (r.at.next_hop.known() && port_at(ni, r.next_hop) == kNone)
          error(file, r.at.next_hop,
                "next hop " + format_ipv4(r.next_hop) +
                    " is not the address of a port in network '" + n.name + "'");
      }
    }
  }

  void load_balancers() {
    PairMap<uint32_t> vips;  // (network, vip) -> lb
    for (uint32_t li = 0; li < m_.load_balancers.size(); ++li) {
      const LoadBalancer& lb = m_.load_balancers[li];
      const uint32_t file = lb.at.file;
      uint32_t ni = resolve(ix_.networks, "network", lb.network, file, lb.at.network);
      if (ni != kNone && lb.at.vip.known()) vip(li, ni, vips);

      if (lb.listeners.empty() && lb.at.listeners.known())
        error(file, lb.at.listeners, "a load balancer needs at least one listener");
      for (size_t a = 0; a < lb.listeners.size(); ++a)
        for (size_t b = 0; b < a; ++b)
          if (lb.listeners[a].protocol == lb.listeners[b].protocol &&
              lb.listeners[a].port == lb.listeners[b].port && lb.listeners[a].at.port.known())
            error(file, lb.listeners[a].at.port,
                  "duplicate listener " + std::string(protocol_name(lb.listeners[a].protocol)) +
                      " " + std::to_string(lb.listeners[a].port));

      if (lb.backends.empty() && lb.at.backends.known())
        error(file, lb.at.backends, "a load balancer needs at least one backend");
      std::vector<uint32_t> seen;
      for (const Backend& b : lb.backends) {
        uint32_t pi = resolve(ix_.ports, "port", b.port, file, b.at.port);
        if (pi == kNone) continue;
        if (std::find(seen.begin(), seen.end(), pi) != seen.end())
          error(file, b.at.port, "port '" + b.port + "' is already a backend");
        seen.push_back(pi);
        uint32_t backend_net = ix_.port[pi].network;
        if (ni != kNone && backend_net != kNone && backend_net != ni)
          error(file, b.at.port,
                "backend port '" + b.port + "' is in network '" + m_.ports[pi].network +
                    "', not the load balancer's network '" + lb.network + "'");
      }

      if (const auto& h = lb.health_check) {
        if (h->interval_ms == 0) error(file, h->at.interval, "interval must be positive");
        if (h->timeout_ms == 0)
          error(file, h->at.timeout, "timeout must be positive");
        else if (h->timeout_ms >= h->interval_ms && h->interval_ms != 0)
          error(file, h->at.timeout,
                "timeout " + format_duration_ms(h->timeout_ms) + " must be shorter than interval " +
                    format_duration_ms(h->interval_ms));
        if (h->protocol != HealthProtocol::kHttp) {
          if (h->at.path.known()) error(file, h->at.path, "path is for an http health check");
          if (h->at.expect_status.known()) error(file, h->at.expect_status, "expect_status is for an http health check");
        }
      }
    }
  }

  void vip(uint32_t li, uint32_t ni, PairMap<uint32_t>& vips) {
    const LoadBalancer& lb = m_.load_balancers[li];
    const Network& net = m_.networks[ni];
    const uint32_t file = lb.at.file;
    auto vip = [&] { return "VIP " + format_ipv4(lb.vip); };
    const Subnet* home = nullptr;
    for (const Subnet& s : net.subnets)
      if (s.at.cidr.known() && s.cidr.contains(lb.vip)) home = &s;
    if (!home) {
      error(file, lb.at.vip, vip() + " is in no subnet of network '" + net.name + "'");
      return;
    }
    if (!check_host_address(*home, lb.vip, "VIP", file, lb.at.vip)) return;
    if (uint32_t pi = port_at(ni, lb.vip); pi != kNone) {
      const Port& holder = m_.ports[pi];
      error(file, lb.at.vip,
            vip() + " is held by port '" + holder.name + "' (" +
                where(holder.at.file, holder.at.ip) + ")");
    }
    auto [it, fresh] = vips.emplace(Pair{ni, lb.vip}, li);
    if (!fresh)
      error(
          file, lb.at.vip,
          vip() + " is already used by load balancer '" + m_.load_balancers[it->second].name + "'");
  }

  // The reverse relations the compiler walks, each sorted by name.
  void relations() {
    const size_t nodes = m_.nodes.size(), networks = m_.networks.size();
    ix_.node_ports.resize(nodes);
    ix_.node_networks.resize(nodes);
    ix_.node_gateways.resize(nodes);
    ix_.network_ports.resize(networks);
    ix_.network_nodes.resize(networks);
    ix_.network_lbs.resize(networks);
    ix_.group_members.resize(m_.security_groups.size());

    std::vector<uint32_t> by_name(m_.ports.size());
    for (uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
    std::sort(by_name.begin(), by_name.end(),
              [&](uint32_t a, uint32_t b) { return m_.ports[a].name < m_.ports[b].name; });
    std::unordered_set<Pair, PairHash> present;  // (node, network)
    for (uint32_t pi : by_name) {
      const ModelIndex::PortRefs& refs = ix_.port[pi];
      if (refs.node == kNone || refs.network == kNone) continue;
      ix_.node_ports[refs.node].push_back(pi);
      ix_.network_ports[refs.network].push_back(pi);
      for (uint32_t g : refs.groups) ix_.group_members[g].push_back(pi);
      if (present.insert(Pair{refs.node, refs.network}).second) {
        ix_.node_networks[refs.node].push_back(refs.network);
        ix_.network_nodes[refs.network].push_back(refs.node);
      }
    }
    for (uint32_t ni = 0; ni < networks; ++ni) {
      uint32_t gi = ix_.network_gateway[ni];
      if (gi == kNone) continue;
      auto it = ix_.nodes.find(m_.gateways[gi].node);
      if (it == ix_.nodes.end()) continue;
      if (present.insert(Pair{it->second, ni}).second) {
        ix_.node_networks[it->second].push_back(ni);
        ix_.network_nodes[ni].push_back(it->second);
      }
    }
    for (uint32_t gi = 0; gi < m_.gateways.size(); ++gi)
      if (auto it = ix_.nodes.find(m_.gateways[gi].node); it != ix_.nodes.end())
        ix_.node_gateways[it->second].push_back(gi);
    for (uint32_t li = 0; li < m_.load_balancers.size(); ++li)
      if (auto it = ix_.networks.find(m_.load_balancers[li].network); it != ix_.networks.end())
        ix_.network_lbs[it->second].push_back(li);

    auto sort_by_name = [](auto& lists, const auto& entities) {
      for (auto& list : lists)
        std::sort(list.begin(), list.end(),
                  [&](uint32_t a, uint32_t b) { return entities[a].name < entities[b].name; });
    };
    sort_by_name(ix_.node_networks, m_.networks);
    sort_by_name(ix_.node_gateways, m_.gateways);
    sort_by_name(ix_.network_nodes, m_.nodes);
    sort_by_name(ix_.network_lbs, m_.load_balancers);
  }

  Model& m_;
  Diagnostics& d_;
  ModelIndex& ix_;
  std::vector<Owned> ip_owner_;  // (network, address, port), sorted by ports()
};

}  // namespace

bool validate(Model& model, Diagnostics& diags) {
  return Validator(model, diags).run();
}

}  // namespace weft::policy
