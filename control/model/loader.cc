// YAML -> Model: keys, types and value syntax of every entity of one file.
// Cross-entity rules (references, uniqueness, address plans) are validate.cc's.

#include "control/model/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/str_cat.h"
#include "common/yaml_doc.h"
#include "control/model/mac.h"
#include "control/model/validate.h"
#include "control/model/values.h"
#include "control/model/yaml_reader.h"

namespace weft::policy {
namespace {

constexpr Key kPolicyKeys[] = {
    {"version", kRequired}, {"nodes"},        {"networks"},       {"ports"},
    {"security_groups"},    {"qos_policies"}, {"load_balancers"}, {"gateways"}};
constexpr Key kNodeKeys[] = {{"name", kRequired}, {"underlay_ip", kRequired}};
constexpr Key kNetworkKeys[] = {
    {"name", kRequired}, {"vni", kRequired}, {"mtu"}, {"subnets"}, {"routes"}};
constexpr Key kSubnetKeys[] = {
    {"name", kRequired}, {"cidr", kRequired}, {"gateway"}, {"dhcp"}, {"dns"}, {"public"}};
constexpr Key kRouteKeys[] = {{"prefix", kRequired}, {"next_hop", kRequired}};
constexpr Key kPortKeys[] = {{"name", kRequired}, {"network", kRequired}, {"subnet", kRequired},
                             {"node", kRequired}, {"ip", kRequired},      {"mac"},
                             {"security_groups"}, {"allowed_addresses"},  {"qos"}};
constexpr Key kGroupKeys[] = {{"name", kRequired}, {"ingress"}, {"egress"}};
constexpr Key kIngressKeys[] = {{"protocol", kRequired}, {"ports"}, {"icmp_type"},
                                {"icmp_code"},           {"from"},  {"from_group"}};
constexpr Key kEgressKeys[] = {{"protocol", kRequired}, {"ports"}, {"icmp_type"},
                               {"icmp_code"},           {"to"},    {"to_group"}};
constexpr Key kQosKeys[] = {{"name", kRequired}, {"egress"}, {"ingress"}, {"classes"}};
constexpr Key kLimitKeys[] = {{"rate", kRequired}, {"burst"}};
constexpr Key kClassKeys[] = {{"name", kRequired}, {"match", kRequired}, {"priority"}, {"rate"}};
constexpr Key kMatchKeys[] = {{"dscp"}, {"protocol"}, {"ports"}};
constexpr Key kLbKeys[] = {{"name", kRequired},      {"network", kRequired},  {"vip", kRequired},
                           {"listeners", kRequired}, {"backends", kRequired}, {"health_check"}};
constexpr Key kListenerKeys[] = {{"protocol", kRequired}, {"port", kRequired}, {"target_port"}};
constexpr Key kBackendKeys[] = {{"port", kRequired}, {"weight"}};
constexpr Key kHealthKeys[] = {
    {"protocol"},         {"port"}, {"interval"}, {"timeout"}, {"unhealthy_threshold"},
    {"healthy_threshold"}, {"path"}, {"expect_status"}};
constexpr Key kGatewayKeys[] = {{"name", kRequired},
                                {"node", kRequired},
                                {"external_cidr", kRequired},
                                {"external_ip", kRequired},
                                {"external_next_hop", kRequired},
                                {"networks", kRequired},
                                {"floating_ips"}};
constexpr Key kFloatingIpKeys[] = {{"ip", kRequired}, {"port", kRequired}};

// A rate limit with no burst gets 10 ms worth of its rate, rounded up to a
// whole kb, and at least one full-size frame, so that a policing token bucket
// never starves a frame.
constexpr uint64_t kMinBurstBytes = 1500;
uint64_t default_burst(uint64_t rate_bps) {
  uint64_t ten_ms = (rate_bps / 800 + 1023) / 1024 * 1024;
  return std::max(kMinBurstBytes, ten_ms);
}

class PolicyReader {
 public:
  PolicyReader(const std::string& file, uint32_t file_index, Model& model, Diagnostics& diags)
      : r_(file, diags), file_(file_index), m_(model) {}

  void read(const YAML::Node& doc) {
    if (doc.IsNull()) {
      r_.error(Loc{1, 1}, "empty policy file (expected at least 'version: 1')");
      return;
    }
    Fields f(r_, doc, "policy", kPolicyKeys);
    if (!f.is_map()) return;
    uint32_t version = 0;
    f.read("version", kVersion, version);
    f.each("nodes", [&](const YAML::Node& y) { node(y); });
    f.each("networks", [&](const YAML::Node& y) { network(y); });
    f.each("ports", [&](const YAML::Node& y) { port(y); });
    f.each("security_groups", [&](const YAML::Node& y) { security_group(y); });
    f.each("qos_policies", [&](const YAML::Node& y) { qos_policy(y); });
    f.each("load_balancers", [&](const YAML::Node& y) { load_balancer(y); });
    f.each("gateways", [&](const YAML::Node& y) { gateway(y); });
  }

 private:
  // A new top-level entity, tagged with this file.
  template <class T>
  T& add(std::vector<T>& kind, const Fields& f) {
    T& e = kind.emplace_back();
    e.at.file = file_;
    e.at.self = f.self();
    return e;
  }

  void node(const YAML::Node& y) {
    Fields f(r_, y, "node", kNodeKeys);
    if (!f.is_map()) return;
    Node& n = add(m_.nodes, f);
    f.read("name", kName, n.name, &n.at.name);
    f.read("underlay_ip", kIpv4, n.underlay_ip, &n.at.underlay_ip);
  }

  void network(const YAML::Node& y) {
    Fields f(r_, y, "network", kNetworkKeys);
    if (!f.is_map()) return;
    Network& n = add(m_.networks, f);
    f.read("name", kName, n.name, &n.at.name);
    f.read("vni", kVni, n.vni, &n.at.vni);
    f.read("mtu", kMtu, n.mtu, &n.at.mtu);
    f.each("subnets", [&](const YAML::Node& s) { subnet(s, n); });
    f.each("routes", [&](const YAML::Node& s) { route(s, n); });
  }

  void subnet(const YAML::Node& y, Network& net) {
    Fields f(r_, y, "subnet", kSubnetKeys);
    if (!f.is_map()) return;
    Subnet& s = net.subnets.emplace_back();
    s.at.self = f.self();
    f.read("name", kName, s.name, &s.at.name);
    if (f.read("cidr", kCidr, s.cidr, &s.at.cidr)) s.gateway = s.cidr.network() + 1;
    f.read("gateway", kIpv4, s.gateway, &s.at.gateway);
    f.read("dhcp", kBool, s.dhcp);
    f.read_list("dns", kIpv4, s.dns);
    f.read("public", kBool, s.is_public);
  }

  void route(const YAML::Node& y, Network& net) {
    Fields f(r_, y, "route", kRouteKeys);
    if (!f.is_map()) return;
    Route& rt = net.routes.emplace_back();
    rt.at.self = f.self();
    f.read("prefix", kCidr, rt.prefix, &rt.at.prefix);
    f.read("next_hop", kIpv4, rt.next_hop, &rt.at.next_hop);
  }

  void port(const YAML::Node& y) {
    Fields f(r_, y, "port", kPortKeys);
    if (!f.is_map()) return;
    Port& p = add(m_.ports, f);
    f.read("name", kName, p.name, &p.at.name);
    f.read("network", kName, p.network, &p.at.network);
    f.read("subnet", kName, p.subnet, &p.at.subnet);
    f.read("node", kName, p.node, &p.at.node);
    f.read("ip", kIpv4, p.ip, &p.at.ip);
    p.mac_derived = !f.has("mac");
    if (!p.mac_derived)
      f.read("mac", kUnicastMac, p.mac, &p.at.mac);
    else if (p.at.network.known() && p.at.ip.known())
      p.mac = derived_port_mac(p.network, p.ip);
    f.read_list("security_groups", kName, p.security_groups, &p.at.security_groups);
    f.read_list("allowed_addresses", kAddressOrCidr, p.allowed_addresses, &p.at.allowed_addresses);
    f.read("qos", kName, p.qos, &p.at.qos);
  }

  void security_group(const YAML::Node& y) {
    Fields f(r_, y, "security group", kGroupKeys);
    if (!f.is_map()) return;
    SecurityGroup& g = add(m_.security_groups, f);
    f.read("name", kName, g.name, &g.at.name);
    g.at.ingress = f.loc("ingress");
    g.at.egress = f.loc("egress");
    g.has_egress = f.has("egress");
    f.each("ingress", [&](const YAML::Node& r) { rule(r, true, g.ingress); });
    f.each("egress", [&](const YAML::Node& r) { rule(r, false, g.egress); });
  }

  void rule(const YAML::Node& y, bool ingress, std::vector<SecurityRule>& into) {
    Fields f(r_, y, ingress ? "ingress rule" : "egress rule",
             ingress ? std::span<const Key>(kIngressKeys) : std::span<const Key>(kEgressKeys));
    if (!f.is_map()) return;
    SecurityRule& rule = into.emplace_back();
    rule.at.self = f.self();
    f.read("protocol", kRuleProtocol, rule.protocol, &rule.at.protocol);
    f.read("ports", kPortList, rule.ports, &rule.at.ports);
    uint8_t v = 0;
    if (f.read("icmp_type", kIcmpValue, v, &rule.at.icmp)) rule.icmp_type = v;
    if (f.read("icmp_code", kIcmpValue, v)) rule.icmp_code = v;
    if (!rule.at.icmp.known()) rule.at.icmp = f.loc("icmp_code");

    std::string_view remote = ingress ? "from" : "to";
    std::string_view group = ingress ? "from_group" : "to_group";
    if (f.read_scalar_or_list(remote, kAddressOrCidr, rule.remote)) rule.at.remote = f.loc(remote);
    f.read(group, kName, rule.remote_group, &rule.at.remote_group);
    if (f.has(remote) && f.has(group))
      r_.error(f.loc(group), str_cat({"'", remote, "' and '", group,
                                      "' are exclusive: a rule names its remote end one way"}));
  }

  void qos_policy(const YAML::Node& y) {
    Fields f(r_, y, "QoS policy", kQosKeys);
    if (!f.is_map()) return;
    QosPolicy& q = add(m_.qos_policies, f);
    f.read("name", kName, q.name, &q.at.name);
    if (const YAML::Node* v = f.find("egress")) q.egress = rate_limit(*v, "egress limit");
    if (const YAML::Node* v = f.find("ingress")) q.ingress = rate_limit(*v, "ingress limit");
    f.each("classes", [&](const YAML::Node& c) { qos_class(c, q); });
  }

  std::optional<RateLimit> rate_limit(const YAML::Node& y, std::string_view what) {
    Fields f(r_, y, what, kLimitKeys);
    if (!f.is_map()) return std::nullopt;
    RateLimit l;
    l.at.self = f.self();
    f.read("rate", kRate, l.rate_bps, &l.at.rate);
    if (!f.read("burst", kSize, l.burst_bytes, &l.at.burst))
      l.burst_bytes = default_burst(l.rate_bps);
    return l;
  }

  void qos_class(const YAML::Node& y, QosPolicy& q) {
    Fields f(r_, y, "QoS class", kClassKeys);
    if (!f.is_map()) return;
    QosClass& c = q.classes.emplace_back();
    c.at.self = f.self();
    f.read("name", kName, c.name, &c.at.name);
    f.read("priority", kPriority, c.priority);
    f.read("rate", kRate, c.rate_bps, &c.at.rate);
    if (const YAML::Node* match = f.find("match")) {
      Fields m(r_, *match, "QoS match", kMatchKeys);
      if (!m.is_map()) return;
      c.at.match = m.self();
      m.read_list("dscp", kDscp, c.dscp);
      m.read("protocol", kRuleProtocol, c.protocol, &c.at.protocol);
      m.read("ports", kPortList, c.ports, &c.at.ports);
    }
  }

  void load_balancer(const YAML::Node& y) {
    Fields f(r_, y, "load balancer", kLbKeys);
    if (!f.is_map()) return;
    LoadBalancer& lb = add(m_.load_balancers, f);
    f.read("name", kName, lb.name, &lb.at.name);
    f.read("network", kName, lb.network, &lb.at.network);
    f.read("vip", kIpv4, lb.vip, &lb.at.vip);
    lb.at.listeners = f.loc("listeners");
    lb.at.backends = f.loc("backends");
    f.each("listeners", [&](const YAML::Node& l) { listener(l, lb); });
    f.each("backends", [&](const YAML::Node& b) { backend(b, lb); });
    if (const YAML::Node* v = f.find("health_check")) lb.health_check = health_check(*v);
  }

  void listener(const YAML::Node& y, LoadBalancer& lb) {
    Fields f(r_, y, "listener", kListenerKeys);
    if (!f.is_map()) return;
    Listener& l = lb.listeners.emplace_back();
    l.at.self = f.self();
    f.read("protocol", kListenerProtocol, l.protocol, &l.at.protocol);
    f.read("port", kL4Port, l.port, &l.at.port);
    if (!f.read("target_port", kL4Port, l.target_port, &l.at.target_port)) {
      l.target_port = l.port;
      l.at.target_port = l.at.port;
    }
  }

  void backend(const YAML::Node& y, LoadBalancer& lb) {
    Fields f(r_, y, "backend", kBackendKeys);
    if (!f.is_map()) return;
    Backend& b = lb.backends.emplace_back();
    b.at.self = f.self();
    f.read("port", kName, b.port, &b.at.port);
    f.read("weight", kWeight, b.weight, &b.at.weight);
  }

  std::optional<HealthCheck> health_check(const YAML::Node& y) {
    Fields f(r_, y, "health check", kHealthKeys);
    if (!f.is_map()) return std::nullopt;
    HealthCheck h;
    h.at.self = f.self();
    f.read("protocol", kHealthProtocol, h.protocol, &h.at.protocol);
    f.read("port", kL4Port, h.port, &h.at.port);
    f.read("interval", kDuration, h.interval_ms, &h.at.interval);
    f.read("timeout", kDuration, h.timeout_ms, &h.at.timeout);
    f.read("unhealthy_threshold", kThreshold, h.unhealthy_threshold, &h.at.unhealthy);
    f.read("healthy_threshold", kThreshold, h.healthy_threshold, &h.at.healthy);
    f.read("path", kHttpPath, h.path, &h.at.path);
    f.read("expect_status", kHttpStatus, h.expect_status, &h.at.expect_status);
    if (!h.at.interval.known()) h.at.interval = h.at.self;
    if (!h.at.timeout.known()) h.at.timeout = h.at.self;
    return h;
  }

  void gateway(const YAML::Node& y) {
    Fields f(r_, y, "gateway", kGatewayKeys);
    if (!f.is_map()) return;
    Gateway& g = add(m_.gateways, f);
    f.read("name", kName, g.name, &g.at.name);
    f.read("node", kName, g.node, &g.at.node);
    f.read("external_cidr", kCidr, g.external_cidr, &g.at.external_cidr);
    f.read("external_ip", kIpv4, g.external_ip, &g.at.external_ip);
    f.read("external_next_hop", kIpv4, g.external_next_hop, &g.at.external_next_hop);
    f.read_list("networks", kName, g.networks, &g.at.networks);
    f.each("floating_ips", [&](const YAML::Node& fip) { floating_ip(fip, g); });
  }

  void floating_ip(const YAML::Node& y, Gateway& g) {
    Fields f(r_, y, "floating IP", kFloatingIpKeys);
    if (!f.is_map()) return;
    FloatingIp& fip = g.floating_ips.emplace_back();
    fip.at.self = f.self();
    f.read("ip", kIpv4, fip.ip, &fip.at.ip);
    f.read("port", kName, fip.port, &fip.at.port);
  }

  YamlReader r_;
  uint32_t file_;
  Model& m_;
};

// Loads and reads one file's text into `into`; false on any error.
bool read_policy_text(std::string_view text, const std::string& file, Model& into,
                      Diagnostics& diags) {
  auto doc = load_yaml_text(text, file, diags);
  if (!doc) {
    into.files.push_back(file);  // keep file indices aligned with the inputs
    return false;
  }
  return read_policy_document(*doc, file, into, diags);
}

std::optional<Model> finish(Model model, bool read_ok, Diagnostics& diags) {
  // Cross-entity checks run even after a syntax error elsewhere, so one run
  // reports everything; fields that did not parse are skipped (see Loc).
  bool valid = validate(model, diags) && read_ok;
  diags.sort();
  if (!valid) return std::nullopt;
  return model;
}

}  // namespace

bool read_policy_document(const YAML::Node& doc, const std::string& file, Model& into,
                          Diagnostics& diags) {
  size_t before = diags.size();
  into.files.push_back(file);
  try {
    PolicyReader(file, static_cast<uint32_t>(into.files.size() - 1), into, diags).read(doc);
  } catch (const YAML::Exception& e) {
    // Not expected on a tree load_yaml_text() accepted; never let it escape.
    diags.error(SourcePos{file, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  return diags.size() == before;
}

std::optional<std::vector<std::string>> policy_files(const std::vector<std::string>& paths_or_dirs,
                                                     Diagnostics& diags) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  size_t before = diags.size();
  if (paths_or_dirs.empty()) diags.error("", "no policy file given");
  for (const std::string& path : paths_or_dirs) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        std::error_code file_ec;
        if (entry.path().extension() == ".yaml" && entry.is_regular_file(file_ec))
          found.push_back(entry.path().string());
      }
      if (ec)
        diags.error(path, "cannot list directory: " + ec.message());
      else if (found.empty())
        diags.error(path, "no *.yaml file in this directory");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (!fs::exists(path, ec)) {
      diags.error(path, "no such file or directory");
    } else if (!std::ifstream(path)) {
      diags.error(path, "cannot open file");
    } else {
      files.push_back(path);
    }
  }
  if (diags.size() != before) return std::nullopt;
  return files;
}

std::optional<Model> load_policy(const std::vector<std::string>& paths_or_dirs,
                                 Diagnostics& diags) {
  auto files = policy_files(paths_or_dirs, diags);
  if (!files) return std::nullopt;
  Model model;
  bool ok = true;
  for (const std::string& file : *files) {
    auto doc = load_yaml_file(file, diags);
    if (!doc) {
      model.files.push_back(file);
      ok = false;
      continue;
    }
    ok &= read_policy_document(*doc, file, model, diags);
  }
  return finish(std::move(model), ok, diags);
}

std::optional<Model> load_policy_text(std::string_view yaml, const std::string& name,
                                      Diagnostics& diags) {
  Model model;
  bool ok = read_policy_text(yaml, name, model, diags);
  return finish(std::move(model), ok, diags);
}

}  // namespace weft::policy
