#include "dataplane/acl/sg_builder.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

namespace weft::dp {
namespace {

struct Range {
  uint16_t lo, hi;
};

// The SgKey::l4 values a rule admits.
std::vector<Range> l4_ranges(const proto::SecurityRule& r) {
  switch (r.protocol()) {
    case proto::PROTOCOL_TCP:
    case proto::PROTOCOL_UDP: {
      std::vector<Range> out;
      for (const proto::PortRange& pr : r.ports())
        out.push_back({static_cast<uint16_t>(std::min<uint32_t>(pr.lo(), UINT16_MAX)),
                       static_cast<uint16_t>(std::min<uint32_t>(pr.hi(), UINT16_MAX))});
      if (out.empty()) out.push_back({0, UINT16_MAX});
      return out;
    }
    case proto::PROTOCOL_ICMP: {
      if (!r.has_icmp_type()) return {{0, UINT16_MAX}};
      const auto type = static_cast<uint16_t>((r.icmp_type() & 0xff) << 8);
      if (!r.has_icmp_code()) return {{type, static_cast<uint16_t>(type | 0xff)}};
      const auto exact = static_cast<uint16_t>(type | (r.icmp_code() & 0xff));
      return {{exact, exact}};
    }
    default:
      return {{0, UINT16_MAX}};
  }
}

void add_rules(SecurityGroupTable& sg, const proto::SecurityGroup& group, uint16_t cls,
               SgDirection d) {
  const auto& list = d == SgDirection::kIngress ? group.ingress() : group.egress();
  for (int k = 0; k < list.size(); ++k) {
    const proto::SecurityRule& r = list[k];
    SgRule rule;
    rule.cls = cls;
    rule.direction = d;
    rule.any_proto = r.protocol() == proto::PROTOCOL_ANY;
    rule.proto = static_cast<uint8_t>(r.protocol());
    rule.id = sg.add_ref({group.name(), group.network(), static_cast<uint32_t>(k), d});
    const std::vector<Range> ranges = l4_ranges(r);
    for (const proto::Prefix& remote : r.remote()) {
      rule.remote = remote.addr();
      rule.remote_len = static_cast<uint8_t>(std::min<uint32_t>(remote.len(), 32));
      for (const Range& l4 : ranges) {
        rule.l4_lo = l4.lo;
        rule.l4_hi = l4.hi;
        sg.add(rule);
      }
    }
  }
}

}  // namespace

bool build_security_groups(const proto::NodeTables& tables,
                           const std::map<std::string, uint16_t>& bound_ports,
                           SecurityGroupTable& out, std::string& error) {
  using GroupKey = std::pair<std::string, std::string>;  // network, name
  std::map<GroupKey, const proto::SecurityGroup*> groups;
  for (const proto::SecurityGroup& g : tables.security_groups())
    groups[{g.network(), g.name()}] = &g;

  // A class: the network, the egress mode and the group names, as listed.
  using ClassKey = std::tuple<std::string, bool, std::vector<std::string>>;
  std::map<ClassKey, uint16_t> classes;
  SecurityGroupTable sg;
  for (const proto::Port& p : tables.ports()) {
    auto bound = bound_ports.find(p.name());
    if (bound == bound_ports.end() || bound->second >= kMaxPorts) continue;
    const bool egress_all = p.egress_mode() == proto::Port::EGRESS_ALLOW_ALL;
    ClassKey key{p.network(), egress_all, {p.security_groups().begin(), p.security_groups().end()}};
    auto [it, fresh] =
        classes.try_emplace(std::move(key), static_cast<uint16_t>(classes.size() + 1));
    if (fresh) {
      if (classes.size() > UINT16_MAX) {
        error = "security groups: more than 65535 distinct sets of groups on this node";
        return false;
      }
      for (const std::string& name : p.security_groups()) {
        auto g = groups.find({p.network(), name});
        if (g == groups.end()) {
          error = "port '" + p.name() + "' is in security group '" + name + "' of network '" +
                  p.network() + "', which the tables do not hold";
          return false;
        }
        add_rules(sg, *g->second, it->second, SgDirection::kIngress);
        if (!egress_all && g->second->restricts_egress())
          add_rules(sg, *g->second, it->second, SgDirection::kEgress);
      }
    }
    sg.bind_port(bound->second, it->second, egress_all);
  }
  if (!sg.build(error)) return false;
  out = std::move(sg);
  return true;
}

}  // namespace weft::dp
