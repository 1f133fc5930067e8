#include "dataplane/config/node_config.h"

#include <grp.h>
#include <rte_config.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/transport/host_port.h"
#include "common/yaml_doc.h"

namespace weft::dp {
namespace {

constexpr size_t kMaxIfaceName = 15;     // IFNAMSIZ - 1
constexpr size_t kMaxSocketPath = 107;   // sizeof(sockaddr_un::sun_path) - 1
constexpr unsigned kMaxLcore = RTE_MAX_LCORE;
constexpr uint32_t kMinMemoryMb = 256;
constexpr uint32_t kMaxMbufs = 1u << 22;

// Reads typed values out of the tree; every failure becomes a diagnostic
// that names the key (as a dotted path) at the node's position.
class Reader {
 public:
  Reader(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  const std::string& file() const { return file_; }
  Diagnostics& diags() { return diags_; }

  void error(const YAML::Node& at, std::string_view key, const std::string& message) {
    diags_.error(pos_of(at, file_), std::string(key) + ": " + message);
  }

  // Strict keys (common/yaml_doc.h), and no key twice: YAML parsers keep
  // both, and the second would be silently ignored.
  bool keys(const YAML::Node& map, std::string_view what,
            std::initializer_list<std::string_view> allowed,
            std::initializer_list<std::string_view> required) {
    if (!check_keys(map, file_, what, allowed, required, diags_)) return false;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && !seen.insert(it->first.Scalar()).second)
        diags_.error(pos_of(it->first, file_), "key '" + it->first.Scalar() + "' appears twice in " + std::string(what));
    return true;
  }

  std::optional<std::string> string(const YAML::Node& n, std::string_view key) {
    if (!n.IsScalar() || n.Scalar().empty()) {
      error(n, key, "must be a non-empty string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& n, std::string_view key) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      error(n, key, "must be true or false");
      return std::nullopt;
    }
    return v;
  }

  std::optional<uint32_t> number(const YAML::Node& n, std::string_view key, uint32_t lo,
                                 uint32_t hi) {
    uint32_t v = 0;
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc{} && end == s.data() + s.size() && v >= lo && v <= hi) return v;
    }
    error(n, key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return std::nullopt;
  }

 private:
  const std::string& file_;
  Diagnostics& diags_;
};

// The policy's name rule, so a binding can name any policy port.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return ok(c) || c == '-'; });
}

constexpr std::string_view kNameRule = "lower-case letters, digits and '-', starting with a letter or digit, at most 63";

// Characters that would change the meaning of the devargs the value is
// spliced into ("iface=X,qpairs=1").
bool devargs_safe(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == ',' || c == '=' || c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20;
  });
}

// "0,1", "0-3", "0,2-3": CPU ids, main lcore first.
std::optional<std::vector<unsigned>> parse_lcores(std::string_view text, std::string& why) {
  std::vector<unsigned> out;
  while (!text.empty()) {
    std::string_view item = text.substr(0, text.find(','));
    text.remove_prefix(std::min(text.size(), item.size() + 1));
    unsigned lo = 0, hi = 0;
    auto dash = item.find('-');
    std::string_view a = item.substr(0, dash);
    std::string_view b = dash == std::string_view::npos ? a : item.substr(dash + 1);
    auto r1 = std::from_chars(a.data(), a.data() + a.size(), lo);
    auto r2 = std::from_chars(b.data(), b.data() + b.size(), hi);
    if (a.empty() || b.empty() || r1.ec != std::errc{} || r1.ptr != a.data() + a.size() ||
        r2.ec != std::errc{} || r2.ptr != b.data() + b.size() || hi < lo) {
      why = "'" + std::string(item) + "' is not a CPU number or range (e.g. \"0,1\" or \"0-2\")";
      return std::nullopt;
    }
    if (hi >= kMaxLcore) {
      why = "CPU " + std::to_string(hi) + " is beyond DPDK's limit of " + std::to_string(kMaxLcore);
      return std::nullopt;
    }
    for (unsigned c = lo; c <= hi; ++c) {
      // The main lcore's CPU may come once more, for a worker that shares it.
      const bool main_again = !out.empty() && c == out.front() &&
                              std::count(out.begin(), out.end(), c) == 1;
      if (!main_again && std::find(out.begin(), out.end(), c) != out.end()) {
        why = "CPU " + std::to_string(c) + " is listed twice";
        return std::nullopt;
      }
      out.push_back(c);
    }
  }
  if (out.size() < 2) {
    why = "needs at least two CPUs: the main lcore, then one or more workers";
    return std::nullopt;
  }
  return out;
}

std::optional<ControllerConfig> read_controller(Reader& r, const YAML::Node& n) {
  if (!r.keys(n, "controller", {"address", "ca", "cert", "key"}, {"address", "ca", "cert", "key"}))
    return std::nullopt;
  ControllerConfig c;
  bool ok = true;
  auto text = [&](const char* key) -> std::optional<std::string> {
    const YAML::Node v = n[key];
    if (!v) return std::nullopt;  // check_keys reported it
    return r.string(v, std::string("controller.") + key);
  };
  if (auto a = text("address")) {
    auto colon = a->rfind(':');
    uint32_t port = 0;
    if (colon != std::string::npos && colon > 0) {
      std::string_view p = std::string_view(*a).substr(colon + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      if (ec != std::errc{} || end != p.data() + p.size() || port > 65535) port = 0;
    }
    if (port == 0) {
      r.error(n["address"], "controller.address", "'" + *a + "' is not HOST:PORT (port 1-65535)");
      ok = false;
    } else {
      c.host = a->substr(0, colon);
      c.port = static_cast<uint16_t>(port);
    }
  } else {
    ok = false;
  }
  const std::pair<const char*, std::string*> files[] = {{"ca", &c.ca}, {"cert", &c.cert}, {"key", &c.key}};
  for (const auto& [key, field] : files) {
    if (auto v = text(key)) *field = *v; else ok = false;
  }
  return ok ? std::optional(c) : std::nullopt;
}

void read_underlay(Reader& r, const YAML::Node& n, UnderlayConfig& u) {
  if (!r.keys(n, "underlay", {"device", "ip", "next_hop", "xdp_program"}, {"device", "ip"})) return;
  if (const YAML::Node d = n["device"]) {
    if (auto s = r.string(d, "underlay.device")) u.device = *s;
  }
  if (const YAML::Node ip = n["ip"]) {
    auto s = r.string(ip, "underlay.ip");
    auto p = s ? parse_ipv4_prefix(*s) : std::nullopt;
    if (s && !p) {
      r.error(ip, "underlay.ip", "'" + *s + "' is not an IPv4 address with a prefix length (a.b.c.d/len)");
    } else if (p && p->len < 31 && (p->addr == p->network() || p->addr == p->broadcast())) {
      r.error(ip, "underlay.ip", "'" + *s + "' is the subnet's network or broadcast address, not a host address");
    } else if (p) {
      u.ip = *p;
    }
  }
  if (const YAML::Node nh = n["next_hop"]) {
    auto s = r.string(nh, "underlay.next_hop");
    auto a = s ? parse_ipv4(*s) : std::nullopt;
    if (s && !a) {
      r.error(nh, "underlay.next_hop", "'" + *s + "' is not an IPv4 address");
    } else if (a && u.ip.len > 0 && !u.ip.contains(*a)) {
      r.error(nh, "underlay.next_hop", *s + " is not inside the underlay subnet " +
                                           format_prefix({u.ip.network(), u.ip.len}));
    } else if (a && *a == u.ip.addr) {
      r.error(nh, "underlay.next_hop", *s + " is the node's own underlay address");
    } else if (a) {
      u.next_hop = *a;
    }
  }
  if (const YAML::Node x = n["xdp_program"]) {
    if (auto s = r.string(x, "underlay.xdp_program")) u.xdp_program = *s;
  }
}

// "1024-65535": an inclusive range of ports.
std::optional<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  uint32_t lo = 0, hi = 0;
  const std::string_view a = text.substr(0, dash), b = text.substr(dash + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), lo);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), hi);
  if (a.empty() || b.empty() || r1.ec != std::errc{} || r1.ptr != a.data() + a.size() || r2.ec != std::errc{} ||
      r2.ptr != b.data() + b.size() || lo == 0 || hi > 65535 || lo > hi)
    return std::nullopt;
  return std::pair{static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

std::optional<ExternalConfig> read_external(Reader& r, const YAML::Node& n) {
  if (!r.keys(n, "external", {"device", "vlan", "snat_ports"}, {"device"})) return std::nullopt;
  ExternalConfig e;
  bool ok = true;
  if (const YAML::Node d = n["device"]) {
    if (auto s = r.string(d, "external.device")) e.device = *s; else ok = false;
  } else {
    ok = false;
  }
  if (const YAML::Node v = n["vlan"]) {
    if (auto id = r.number(v, "external.vlan", 1, 4094)) e.vlan = static_cast<uint16_t>(*id); else ok = false;
  }
  if (const YAML::Node p = n["snat_ports"]) {
    auto s = r.string(p, "external.snat_ports");
    auto range = s ? parse_port_range(*s) : std::nullopt;
    if (s && !range)
      r.error(p, "external.snat_ports", "'" + *s + "' is not a port range LO-HI within 1-65535 (e.g. \"1024-65535\")");
    if (range) std::tie(e.snat_lo, e.snat_hi) = *range; else ok = false;
  }
  return ok ? std::optional(e) : std::nullopt;
}

std::optional<PortConfig> read_port(Reader& r, const std::string& name, const YAML::Node& n) {
  const std::string what = "ports." + name;
  PortConfig p;
  p.name = name;
  p.pos = pos_of(n, r.file());
  if (!n.IsMap()) {
    r.error(n, what, "must be a mapping such as {type: af_packet, iface: vm-1}");
    return std::nullopt;
  }
  const YAML::Node type = n["type"];
  std::optional<VnicKind> kind;
  if (!type) {
    r.diags().error(p.pos, "missing key 'type' in " + what);
  } else if (auto t = r.string(type, what + ".type")) {
    kind = vnic_kind_from_name(*t);
    if (!kind) {
      std::string msg = "unknown port type '" + *t + "' (af_packet, af_xdp, vhost_user or dpdk)";
      std::string hint = did_you_mean(*t, {"af_packet", "af_xdp", "vhost_user", "dpdk"});
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      r.error(type, what + ".type", msg);
    }
  }
  if (!kind) {  // still report unknown keys against everything a binding may hold
    r.keys(n, what, {"type", "iface", "socket", "client", "devargs"}, {});
    return std::nullopt;
  }
  p.binding.kind = *kind;
  bool ok = true;
  auto field = [&](const char* key, std::string& out) {
    if (const YAML::Node v = n[key]) {
      if (auto s = r.string(v, what + "." + key)) out = *s; else ok = false;
    } else {
      ok = false;  // check_keys reported it
    }
  };
  switch (*kind) {
    case VnicKind::kAfPacket:
    case VnicKind::kAfXdp:
      r.keys(n, what, {"type", "iface"}, {"iface"});
      field("iface", p.binding.iface);
      if (!p.binding.iface.empty() &&
          (p.binding.iface.size() > kMaxIfaceName || !devargs_safe(p.binding.iface) ||
           p.binding.iface.find('/') != std::string::npos)) {
        r.error(n["iface"], what + ".iface",
                "'" + p.binding.iface + "' is not a Linux interface name (at most 15 characters, no '/', ',', '=' or spaces)");
        ok = false;
      }
      break;
    case VnicKind::kVhostUser:
      r.keys(n, what, {"type", "socket", "client"}, {"socket"});
      field("socket", p.binding.socket);
      if (!p.binding.socket.empty() &&
          (p.binding.socket.size() > kMaxSocketPath || !devargs_safe(p.binding.socket))) {
        r.error(n["socket"], what + ".socket",
                "'" + p.binding.socket + "' is not a usable unix socket path (at most 107 bytes, no ',', '=' or spaces)");
        ok = false;
      }
      if (const YAML::Node c = n["client"]) {
        if (auto b = r.boolean(c, what + ".client")) p.binding.client = *b; else ok = false;
      }
      break;
    case VnicKind::kDpdk:
      r.keys(n, what, {"type", "devargs"}, {"devargs"});
      field("devargs", p.binding.devargs);
      break;
  }
  return ok ? std::optional(p) : std::nullopt;
}

void read_ports(Reader& r, const YAML::Node& n, std::vector<PortConfig>& out) {
  if (!n.IsMap()) {
    if (!n.IsNull()) r.error(n, "ports", "must be a mapping of port name to binding");
    return;
  }
  std::set<std::string> names;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) {
      r.error(it->first, "ports", "port names must be strings");
      continue;
    }
    const std::string& name = it->first.Scalar();
    if (!valid_name(name)) {
      r.error(it->first, "ports." + name, "not a valid port name (" + std::string(kNameRule) + ")");
      continue;
    }
    if (!names.insert(name).second) {
      r.error(it->first, "ports." + name, "port bound twice");
      continue;
    }
    if (auto p = read_port(r, name, it->second)) out.push_back(std::move(*p));
  }
}

void read_dpdk(Reader& r, const YAML::Node& n, DpdkConfig& d) {
  if (!r.keys(n, "dpdk", {"lcores", "hugepages", "memory_mb", "mbufs"}, {})) return;
  if (const YAML::Node l = n["lcores"]) {
    d.lcores_pos = pos_of(l, r.file());
    if (auto s = r.string(l, "dpdk.lcores")) {
      std::string why;
      if (auto v = parse_lcores(*s, why)) d.lcores = *v; else r.error(l, "dpdk.lcores", why);
    }
  }
  if (const YAML::Node h = n["hugepages"]) {
    if (auto b = r.boolean(h, "dpdk.hugepages")) d.hugepages = *b;
  }
  if (const YAML::Node m = n["memory_mb"]) {
    if (auto v = r.number(m, "dpdk.memory_mb", kMinMemoryMb, 1u << 20)) d.memory_mb = *v;
  }
  if (const YAML::Node m = n["mbufs"]) {
    if (auto v = r.number(m, "dpdk.mbufs", 1024, kMaxMbufs)) d.mbufs = *v;
  }
}

void read_conntrack(Reader& r, const YAML::Node& n, ConntrackConfig& c) {
  if (!r.keys(n, "conntrack", {"max_connections"}, {})) return;
  if (const YAML::Node m = n["max_connections"]) {
    if (auto v = r.number(m, "conntrack.max_connections", ConntrackConfig::kMinConnections,
                          ConntrackConfig::kMaxConnections))
      c.max_connections = *v;
  }
}

// metrics: {listen: ADDRESS:PORT}; an IP address (IPv6 in brackets), port
// 0 for any free one.
std::optional<MetricsConfig> read_metrics(Reader& r, const YAML::Node& n) {
  if (!r.keys(n, "metrics", {"listen"}, {"listen"})) return std::nullopt;
  const YAML::Node l = n["listen"];
  if (!l) return std::nullopt;  // check_keys reported it
  auto text = r.string(l, "metrics.listen");
  if (!text) return std::nullopt;
  auto hp = ctl::parse_host_port(*text);
  if (!hp) {
    r.error(l, "metrics.listen", hp.error() + " (want ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
    return std::nullopt;
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(hp->host, ec);
  if (ec) {
    r.error(l, "metrics.listen", "'" + hp->host + "' is not an IP address (a host name is not resolved here)");
    return std::nullopt;
  }
  return MetricsConfig{hp->host, hp->port};
}

void read_port_security(Reader& r, const YAML::Node& n, PortSecurityConfig& c) {
  if (!r.keys(n, "port_security", {"broadcast_rate", "broadcast_burst"}, {})) return;
  if (const YAML::Node m = n["broadcast_rate"]) {
    if (auto v = r.number(m, "port_security.broadcast_rate", 0, PortSecurityConfig::kMaxBroadcast))
      c.broadcast_rate = *v;
  }
  if (const YAML::Node m = n["broadcast_burst"]) {
    if (auto v = r.number(m, "port_security.broadcast_burst", 1, PortSecurityConfig::kMaxBroadcast))
      c.broadcast_burst = *v;
  }
}

void read_qos(Reader& r, const YAML::Node& n, QosNodeConfig& c) {
  if (!r.keys(n, "qos", {"mode"}, {})) return;
  if (const YAML::Node m = n["mode"]) {
    if (auto v = r.string(m, "qos.mode")) {
      if (*v == "shape" || *v == "police") c.shape = *v == "shape";
      else r.error(m, "qos.mode", "'" + *v + "' is neither 'shape' nor 'police'");
    }
  }
}

// Cross-field rules: one device, interface or socket per port, and no more
// ports than DPDK has ethdev slots.
void check_bindings(Reader& r, const YAML::Node& root, NodeConfig& cfg) {
  if (cfg.ports.size() + 1 + (cfg.external ? 1 : 0) > RTE_MAX_ETHPORTS) {
    r.error(root["ports"], "ports", std::to_string(cfg.ports.size()) + " bindings plus the underlay exceed DPDK's " +
                                        std::to_string(RTE_MAX_ETHPORTS) + " ports");
  }
  auto device_name = [](const std::string& devargs) { return devargs.substr(0, devargs.find(',')); };
  struct Seen {
    std::string key;
    std::string owner;
  };
  std::vector<Seen> seen;
  if (!cfg.underlay.device.empty()) seen.push_back({"device " + device_name(cfg.underlay.device), "underlay"});
  if (cfg.external) {
    const std::string key = "device " + device_name(cfg.external->device);
    if (!seen.empty() && seen.front().key == key)
      r.error(root["external"], "external.device", key + " is already used by the underlay");
    else
      seen.push_back({key, "external"});
  }
  for (const PortConfig& p : cfg.ports) {
    std::string key;
    switch (p.binding.kind) {
      case VnicKind::kAfPacket:
      case VnicKind::kAfXdp: key = "interface " + p.binding.iface; break;
      case VnicKind::kVhostUser: key = "socket " + p.binding.socket; break;
      case VnicKind::kDpdk: key = "device " + device_name(p.binding.devargs); break;
    }
    auto it = std::find_if(seen.begin(), seen.end(), [&](const Seen& s) { return s.key == key; });
    if (it != seen.end()) {
      r.diags().error(p.pos, "ports." + p.name + ": " + key + " is already used by " + it->owner);
      continue;
    }
    seen.push_back({key, "ports." + p.name});
  }
}

// A group by name, or by number.
std::optional<gid_t> group_id(const std::string& group) {
  gid_t gid = 0;
  auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), gid);
  if (ec == std::errc() && end == group.data() + group.size() && !group.empty()) return gid;
  std::vector<char> buf(16 * 1024);
  struct group entry;
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return found->gr_gid;
}

}  // namespace

std::optional<NodeConfig> parse_node_config(const YAML::Node& root, const std::string& file,
                                            Diagnostics& diags) {
  Reader r(file, diags);
  NodeConfig cfg;
  cfg.file = file;
  cfg.dpdk.lcores_pos = SourcePos{file, 0, 0};
  const size_t errors_before = diags.size();
  try {
    if (!r.keys(root, "node config",
                {"node", "controller", "underlay", "ports", "dpdk", "conntrack", "port_security",
                 "control_socket", "control_socket_group", "metrics", "external", "qos"},
                {"node", "underlay"}))
      return std::nullopt;
    if (const YAML::Node n = root["node"]) {
      if (auto s = r.string(n, "node")) {
        if (valid_name(*s)) cfg.node = *s;
        else r.error(n, "node", "'" + *s + "' is not a valid node name (" + std::string(kNameRule) + ")");
      }
    }
    if (const YAML::Node c = root["controller"]) cfg.controller = read_controller(r, c);
    if (const YAML::Node u = root["underlay"]) read_underlay(r, u, cfg.underlay);
    if (const YAML::Node p = root["ports"]) read_ports(r, p, cfg.ports);
    if (const YAML::Node e = root["external"]) cfg.external = read_external(r, e);
    if (const YAML::Node d = root["dpdk"]) read_dpdk(r, d, cfg.dpdk);
    if (const YAML::Node c = root["conntrack"]) read_conntrack(r, c, cfg.conntrack);
    if (const YAML::Node p = root["port_security"]) read_port_security(r, p, cfg.port_security);
    if (const YAML::Node q = root["qos"]) read_qos(r, q, cfg.qos);
    if (const YAML::Node s = root["control_socket"]) {
      if (auto path = r.string(s, "control_socket")) {
        if (path->size() > kMaxSocketPath)
          r.error(s, "control_socket", "path longer than a unix socket allows (107 bytes)");
        else
          cfg.control_socket = *path;
      }
    } else if (!cfg.node.empty()) {
      cfg.control_socket = std::string(NodeConfig::kDefaultControlSocketDir) + "/" + cfg.node + ".sock";
    }
    if (const YAML::Node g = root["control_socket_group"]) {
      if (auto group = r.string(g, "control_socket_group")) {
        if (auto gid = group_id(*group)) cfg.control_socket_gid = *gid;
        else r.error(g, "control_socket_group", "no group '" + *group + "' on this host");
      }
    }
    if (const YAML::Node m = root["metrics"]) cfg.metrics = read_metrics(r, m);
    check_bindings(r, root, cfg);
  } catch (const YAML::Exception& e) {
    diags.error(SourcePos{file, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  if (diags.size() != errors_before) return std::nullopt;
  return cfg;
}

std::optional<NodeConfig> load_node_config(const std::string& path, Diagnostics& diags) {
  auto root = load_yaml_file(path, diags);
  if (!root) return std::nullopt;
  auto cfg = parse_node_config(*root, path, diags);
  diags.sort();
  return cfg;
}

}  // namespace weft::dp
