#include "control/compile/tables_text.h"

#include <algorithm>

#include "common/net.h"
#include "common/units.h"
#include "control/model/mac.h"

namespace weft::policy {
namespace {

std::string ip(uint32_t a) {
  return format_ipv4(a);
}
std::string mac(uint64_t m) {
  return format_mac(mac_from_u64(m));
}
std::string prefix(const proto::Prefix& p) {
  return format_prefix({p.addr(), static_cast<uint8_t>(p.len())});
}

template <class List, class Fn>
std::string join(const List& items, Fn fn, std::string_view none = "-") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += fn(item);
  }
  return out.empty() ? std::string(none) : out;
}

std::string protocol(proto::Protocol p) {
  switch (p) {
    case proto::PROTOCOL_TCP:
      return "tcp";
    case proto::PROTOCOL_UDP:
      return "udp";
    case proto::PROTOCOL_ICMP:
      return "icmp";
    default:
      return "any";
  }
}

std::string port_ranges(const google::protobuf::RepeatedPtrField<proto::PortRange>& ranges) {
  return join(ranges, [](const proto::PortRange& r) {
    return r.lo() == r.hi() ? std::to_string(r.lo())
                            : std::to_string(r.lo()) + "-" + std::to_string(r.hi());
  });
}

// "local" or "vtep A.B.C.D"; two cells so that columns line up.
void location(std::vector<std::string>& cells, const proto::Location& loc) {
  if (loc.has_local_port()) {
    cells.push_back("local");
  } else if (loc.has_remote_vtep()) {
    cells.push_back("vtep");
    cells.push_back(ip(loc.remote_vtep()));
  }
}

class TextBuilder {
 public:
  std::vector<TextSection> run(const proto::NodeTables& t) {
    section("node " + t.node());
    row({"vtep", ip(t.vtep_ip())});
    for (const auto& p : t.peers()) row({"peer", p.node(), ip(p.ip())});
    for (const auto& n : t.networks()) network(n);
    for (const auto& p : t.ports()) port(p);
    for (const auto& g : t.security_groups()) security_group(g);
    for (const auto& q : t.qos_policies()) qos(q);
    for (const auto& lb : t.load_balancers()) load_balancer(lb);
    for (const auto& g : t.gateways()) gateway(g);
    return std::move(sections_);
  }

 private:
  void section(std::string title) { sections_.push_back({std::move(title), {}}); }
  std::vector<std::string>& row(std::vector<std::string> cells) {
    return sections_.back().rows.emplace_back(TextRow{std::move(cells)}).cells;
  }

  void network(const proto::Network& n) {
    section("network " + n.name());
    row({"vni", std::to_string(n.vni()), "mtu", std::to_string(n.mtu()), "router-mac",
         mac(n.router_mac())});
    for (const auto& s : n.subnets())
      row({"subnet", s.name(), prefix(s.cidr()), "gateway", ip(s.gateway()), "dhcp",
           s.dhcp() ? "on" : "off", "dns", join(s.dns(), ip),
           s.is_public() ? "public" : "private"});
    for (const auto& r : n.routes()) {
      switch (r.kind()) {
        case proto::Route::CONNECTED:
          row({"route", prefix(r.prefix()), "connected", r.subnet()});
          break;
        case proto::Route::STATIC:
          location(row({"route", prefix(r.prefix()), "via", ip(r.next_hop_ip()), r.next_hop_port(),
                        mac(r.next_hop_mac())}),
                   r.location());
          break;
        default: {
          auto& cells = row({"route", prefix(r.prefix()), "gateway", r.gateway()});
          if (r.has_location())
            location(cells, r.location());
          else
            cells.push_back("local");
        }
      }
    }
    for (const auto& e : n.l2()) location(row({"l2", mac(e.mac()), e.port()}), e.location());
    for (const auto& a : n.arp()) {
      const char* owner = a.owner() == proto::ArpEntry::ROUTER ? "router"
                          : a.owner() == proto::ArpEntry::VIP  ? "vip"
                                                               : "port";
      row({"arp", ip(a.ip()), mac(a.mac()), owner, a.name()});
    }
    for (const auto& p : n.flood_local_ports()) row({"flood", "local", p});
    for (uint32_t v : n.flood_remote_vteps()) row({"flood", "vtep", ip(v)});
  }

  void port(const proto::Port& p) {
    section("port " + p.name());
    row({"network", p.network(), "vni", std::to_string(p.vni()), "subnet", p.subnet()});
    row({"address", ip(p.ip()), "mac", mac(p.mac())});
    for (const auto& a : p.allowed_addresses()) row({"allowed", prefix(a)});
    if (p.has_dhcp()) {
      const auto& d = p.dhcp();
      row({"dhcp", ip(d.ip()) + "/" + std::to_string(d.prefix_len()), "gateway", ip(d.gateway()),
           "dns", join(d.dns(), ip), "mtu", std::to_string(d.mtu()), "lease",
           std::to_string(d.lease_seconds()) + "s", "hostname", d.hostname()});
    } else {
      row({"dhcp", "off"});
    }
    row({"groups", join(p.security_groups(), [](const std::string& s) { return s; })});
    row({"qos", p.qos_policy().empty() ? "-" : p.qos_policy()});
    row({"default", "ingress", "deny"});
    row({"default", "egress", p.egress_mode() == proto::Port::EGRESS_ALLOW_ALL ? "allow" : "deny"});
  }

  void security_group(const proto::SecurityGroup& g) {
    section("group " + g.name() + " network " + g.network());
    row({"vni", std::to_string(g.vni())});
    for (const auto& r : g.ingress()) rule("ingress", "from", r);
    if (!g.restricts_egress()) row({"egress", "allow-all"});
    for (const auto& r : g.egress()) rule("egress", "to", r);
  }

  // Fixed columns: direction, protocol, what (ports, ICMP type/code, or
  // "*"), from/to, prefixes, and the remote group they came from if any.
  void rule(const char* direction, const char* remote, const proto::SecurityRule& r) {
    std::string what = "*";
    if (r.ports_size()) {
      what = port_ranges(r.ports());
    } else if (r.has_icmp_type()) {
      what = "type:" + std::to_string(r.icmp_type());
      if (r.has_icmp_code()) what += ",code:" + std::to_string(r.icmp_code());
    }
    auto& cells = row({direction, protocol(r.protocol()), what, remote, join(r.remote(), prefix)});
    if (!r.remote_group().empty()) cells.push_back("group:" + r.remote_group());
  }

  void qos(const proto::QosPolicy& q) {
    section("qos " + q.name());
    if (q.has_egress())
      row({"limit", "egress", "rate", format_rate_bps(q.egress().rate_bps()), "burst",
           format_size_bytes(q.egress().burst_bytes())});
    if (q.has_ingress())
      row({"limit", "ingress", "rate", format_rate_bps(q.ingress().rate_bps()), "burst",
           format_size_bytes(q.ingress().burst_bytes())});
    for (const auto& c : q.classes()) {
      const char* prio = c.priority() == proto::QosClass::HIGH  ? "high"
                         : c.priority() == proto::QosClass::LOW ? "low"
                                                                : "normal";
      row({"class", c.name(), prio, "dscp",
           join(c.dscp(), [](uint32_t d) { return std::to_string(d); }), protocol(c.protocol()),
           port_ranges(c.ports()), "rate", c.rate_bps() ? format_rate_bps(c.rate_bps()) : "-"});
    }
  }

  void load_balancer(const proto::LoadBalancer& lb) {
    section("lb " + lb.name());
    row({"network", lb.network(), "vni", std::to_string(lb.vni()), "vip", ip(lb.vip())});
    for (const auto& l : lb.listeners())
      row({"listener", protocol(l.protocol()), std::to_string(l.port()), "->",
           std::to_string(l.target_port())});
    for (const auto& b : lb.backends())
      location(row({"backend", b.port(), ip(b.ip()), mac(b.mac()), "weight",
                    std::to_string(b.weight()), "node", b.node()}),
               b.location());
    if (lb.has_health_check()) {
      const auto& h = lb.health_check();
      std::vector<std::string> r = {"health", h.http_path().empty() ? protocol(h.protocol()) : "http",
                                    "port", h.port() ? std::to_string(h.port()) : "target",
                                    "interval", format_duration_ms(h.interval_ms()), "timeout",
                                    format_duration_ms(h.timeout_ms()), "unhealthy", std::to_string(h.unhealthy_threshold()),
                                    "healthy", std::to_string(h.healthy_threshold())};
      if (!h.http_path().empty())
        r.insert(r.end(), {"path", h.http_path(), "expect", std::to_string(h.http_status())});
      row(std::move(r));
    }
  }

  void gateway(const proto::Gateway& g) {
    section("gateway " + g.name());
    row({"external", ip(g.external_ip()), "cidr", prefix(g.external_cidr()), "next-hop",
         ip(g.external_next_hop())});
    for (const auto& n : g.networks()) row({"serves", n});
    for (const auto& s : g.snat())
      row({"snat", s.network(), s.subnet(), prefix(s.prefix()), "vni", std::to_string(s.vni())});
    for (const auto& f : g.floating_ips())
      location(row({"fip", ip(f.external_ip()), f.port(), f.network(), ip(f.ip()), mac(f.mac()),
                    "vni", std::to_string(f.vni())}),
               f.location());
  }

  std::vector<TextSection> sections_;
};

}  // namespace

std::string TextRow::line() const {
  std::string out;
  for (const std::string& c : cells) {
    if (!out.empty()) out += ' ';
    out += c;
  }
  return out;
}

std::vector<TextSection> tables_to_text(const proto::NodeTables& tables) {
  return TextBuilder().run(tables);
}

std::string render_rows(const std::vector<TextRow>& rows, const std::string& prefix) {
  std::string out;
  for (size_t start = 0; start < rows.size();) {
    size_t end = start;
    std::vector<size_t> width;
    while (end < rows.size() && rows[end].cells[0] == rows[start].cells[0]) {
      const auto& cells = rows[end].cells;
      if (width.size() < cells.size()) width.resize(cells.size());
      for (size_t c = 0; c < cells.size(); ++c) width[c] = std::max(width[c], cells[c].size());
      ++end;
    }
    for (size_t r = start; r < end; ++r) {
      std::string line = prefix;
      const auto& cells = rows[r].cells;
      for (size_t c = 0; c < cells.size(); ++c) {
        line += cells[c];
        if (c + 1 < cells.size()) line.append(width[c] - cells[c].size() + 2, ' ');
      }
      out += line;
      out += '\n';
    }
    start = end;
  }
  return out;
}

std::string render_text(const std::vector<TextSection>& sections, int indent) {
  std::string out;
  const std::string prefix(static_cast<size_t>(indent), ' ');
  for (const TextSection& s : sections) {
    if (!out.empty()) out += '\n';
    out += s.title;
    out += '\n';
    out += render_rows(s.rows, prefix);
  }
  return out;
}

}  // namespace weft::policy
