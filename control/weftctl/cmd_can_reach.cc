// weftctl can-reach POLICY... --from PORT --to PORT|IP [--proto tcp/5432] [--json]
// weftctl can-reach POLICY... --matrix [--network NAME] [--proto tcp/5432] [--json]
//
// Whether a port can open a connection to another port (or an address),
// answered by the trace engine (trace_offline.h) and not by a model of the
// rules: the opening packet runs through the real stages of the sender's
// node and, through the tunnel, of the receiver's; then the receiver's
// answer runs back. Yes when both arrive. The answer names the rules that
// decided it each way, with their policy FILE:LINE:COLUMN.
//
// --proto: tcp/PORT, udp/PORT or icmp (an echo request: ping); default icmp.
// --matrix: every port (of --network) against every other of its network.
// Exit 0 yes (and for a matrix), 1 no or an invalid policy, 2 usage or I/O.

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "control/weftctl/commands.h"
#include "control/weftctl/policy_cli.h"
#include "control/weftctl/trace_offline.h"
#include "control/weftctl/trace_text.h"
#include "dataplane/trace/offline_node.h"

namespace weft::cli {
namespace {

using nlohmann::json;

constexpr const char* kCanReachUsage =
    "usage: weftctl can-reach POLICY... --from PORT --to PORT|IP [--proto tcp/5432|udp/53|icmp] [--json]\n"
    "       weftctl can-reach POLICY... --matrix [--network NAME] [--proto tcp/5432|udp/53|icmp] [--json]\n";

constexpr uint16_t kClientPort = 40000;

// "tcp/5432", "udp/53", "icmp".
bool parse_proto(const std::string& s, dp::TracePacket& p) {
  if (s == "icmp") {
    p.proto = 1;
    return true;
  }
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  const std::string name = s.substr(0, slash);
  if (name != "tcp" && name != "udp") return false;
  p.proto = name == "tcp" ? 6 : 17;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(s.data() + slash + 1, s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || port == 0 || port > 65535) return false;
  p.sport = kClientPort;
  p.dport = static_cast<uint16_t>(port);
  return true;
}

struct Leg {
  bool arrived = false;
  json verdict;
  std::vector<std::string> rules;
  json hops = json::array();
};

struct Answer {
  bool yes = false;
  Leg forward, reply;
};

// `packet` from `sender`, across nodes: arrived when it was delivered to
// port `to` (any port, when `to` is empty).
std::optional<Leg> leg(OfflineNodes& nodes, const std::string& sender, const dp::TracePacket& packet,
                       const std::string& to, std::string& error) {
  auto hops = nodes.trace(nodes.node_of_port(sender), sender, packet, /*follow=*/true, error);
  if (!hops) return std::nullopt;
  Leg l;
  for (const TraceHop& h : *hops) {
    for (std::string& r : deciding_rules(h.json)) l.rules.push_back(h.node + ": " + r);
    l.hops.push_back(h.json);
  }
  for (const json& v : hops->back().json["verdict"]) {
    if (v.value("packet", 1) != 0) continue;
    l.verdict = v;
    l.arrived = v.value("delivered", false) && !v.contains("vtep") && (to.empty() || v.value("port", "") == to);
  }
  return l;
}

std::optional<Answer> can_reach(OfflineNodes& nodes, const policy::Model& m, const std::string& from,
                                const std::string& to_port, uint32_t to_ip, dp::TracePacket packet,
                                std::string& error) {
  packet.src = m.ports[m.index.ports.at(from)].ip;
  packet.dst = to_ip;
  nodes.forget();
  Answer a;
  auto fwd = leg(nodes, from, packet, to_port, error);
  if (!fwd) return std::nullopt;
  a.forward = std::move(*fwd);
  if (a.forward.arrived && !to_port.empty()) {
    auto back = leg(nodes, to_port, dp::reply_packet(packet), from, error);
    if (!back) return std::nullopt;
    a.reply = std::move(*back);
  }
  a.yes = a.forward.arrived && (to_port.empty() || a.reply.arrived);
  return a;
}

json answer_json(const Answer& a) {
  auto leg_json = [](const Leg& l) {
    return json{{"arrived", l.arrived}, {"verdict", l.verdict}, {"rules", l.rules}, {"hops", l.hops}};
  };
  json j = {{"reachable", a.yes}, {"forward", leg_json(a.forward)}};
  if (!a.reply.verdict.is_null()) j["reply"] = leg_json(a.reply);
  return j;
}

void print_answer(const std::string& title, const Answer& a) {
  std::printf("%s: %s\n", title.c_str(), a.yes ? "yes" : "no");
  auto print_leg = [](const char* name, const Leg& l) {
    std::printf("  %-8s %s\n", name, l.verdict.is_null() ? "no verdict" : verdict_text(l.verdict).c_str());
    for (const std::string& r : l.rules) std::printf("    %s\n", r.c_str());
  };
  print_leg("forward:", a.forward);
  if (!a.reply.verdict.is_null()) print_leg("reply:", a.reply);
}

std::string proto_text(const dp::TracePacket& p) {
  if (p.proto == 1) return "icmp";
  return std::string(p.proto == 6 ? "tcp/" : "udp/") + std::to_string(p.dport);
}

int matrix(OfflineNodes& nodes, const policy::Model& m, const ParsedArgs& args, const dp::TracePacket& packet) {
  const std::string* network = args.value("--network");
  if (network && !m.index.networks.count(*network)) {
    std::fprintf(stderr, "weftctl can-reach: the policy has no network named '%s'\n", network->c_str());
    return kExitUsage;
  }
  std::vector<const policy::Port*> ports;
  for (const policy::Port& p : m.ports)
    if (!network || p.network == *network) ports.push_back(&p);
  std::sort(ports.begin(), ports.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  json result = json::object();
  std::string error;
  for (const policy::Port* from : ports) {
    json row = json::object();
    for (const policy::Port* to : ports) {
      if (from == to || from->network != to->network) continue;
      auto a = can_reach(nodes, m, from->name, to->name, to->ip, packet, error);
      if (!a) {
        std::fprintf(stderr, "weftctl can-reach: %s -> %s: %s\n", from->name.c_str(), to->name.c_str(), error.c_str());
        return kExitNegative;
      }
      row[to->name] = a->yes;
    }
    result[from->name] = row;
  }
  if (args.flag("--json")) {
    std::printf("%s\n", json({{"proto", proto_text(packet)}, {"matrix", result}}).dump(2).c_str());
    return kExitOk;
  }
  size_t width = proto_text(packet).size() + 2;
  for (const auto* p : ports) width = std::max(width, p->name.size() + 2);
  std::printf("%-*s", static_cast<int>(width), (proto_text(packet) + ":").c_str());
  for (const auto* p : ports) std::printf("%-*s", static_cast<int>(width), p->name.c_str());
  std::printf("\n");
  for (const auto* from : ports) {
    std::printf("%-*s", static_cast<int>(width), from->name.c_str());
    for (const auto* to : ports) {
      const json& row = result[from->name];
      const char* cell = row.contains(to->name) ? (row[to->name].get<bool>() ? "yes" : "no") : "-";
      std::printf("%-*s", static_cast<int>(width), cell);
    }
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace

int cmd_can_reach(int argc, char** argv) {
  auto args = parse_args(argc, argv, "can-reach", {"--from", "--to", "--proto", "--network"}, {"--matrix", "--json"});
  if (args && args->help) {
    std::fputs(kCanReachUsage, stdout);
    return kExitOk;
  }
  const bool is_matrix = args && args->flag("--matrix");
  if (!args || args->positional.empty() ||
      (is_matrix ? (args->value("--from") || args->value("--to")) : (!args->value("--from") || !args->value("--to")))) {
    std::fputs(kCanReachUsage, stderr);
    return kExitUsage;
  }
  dp::TracePacket packet;
  packet.proto = 1;
  if (const std::string* p = args->value("--proto"); p && !parse_proto(*p, packet)) {
    std::fprintf(stderr, "weftctl can-reach: --proto '%s': want tcp/PORT, udp/PORT or icmp\n", p->c_str());
    return kExitUsage;
  }
  std::optional<policy::Model> model;
  if (int rc = load_policy_for_cli(args->positional, model); rc != kExitOk) return rc;
  std::string error;
  rte_mempool* pool = nullptr;
  auto start_eal = [&] {
    pool = dp::start_trace_eal(error);
    if (pool == nullptr) std::fprintf(stderr, "weftctl can-reach: %s\n", error.c_str());
    return pool != nullptr;
  };
  if (is_matrix) {
    if (!start_eal()) return kExitUsage;
    OfflineNodes nodes(*model, pool);
    return matrix(nodes, *model, *args, packet);
  }

  const std::string& from = *args->value("--from");
  const std::string& to = *args->value("--to");
  if (!model->index.ports.count(from)) {
    std::fprintf(stderr, "weftctl can-reach: the policy has no port named '%s'\n", from.c_str());
    return kExitUsage;
  }
  std::string to_port;
  uint32_t to_ip = 0;
  if (auto it = model->index.ports.find(to); it != model->index.ports.end()) {
    to_port = to;
    to_ip = model->ports[it->second].ip;
  } else if (auto ip = parse_ipv4(to)) {
    to_ip = *ip;
  } else {
    std::fprintf(stderr, "weftctl can-reach: --to '%s' is neither a port of the policy nor an address\n", to.c_str());
    return kExitUsage;
  }
  if (!start_eal()) return kExitUsage;
  OfflineNodes nodes(*model, pool);
  auto a = can_reach(nodes, *model, from, to_port, to_ip, packet, error);
  if (!a) {
    std::fprintf(stderr, "weftctl can-reach: %s\n", error.c_str());
    return kExitNegative;
  }
  if (args->flag("--json"))
    std::printf("%s\n", answer_json(*a).dump(2).c_str());
  else
    print_answer(from + " -> " + to + " " + proto_text(packet), *a);
  return a->yes ? kExitOk : kExitNegative;
}

}  // namespace weft::cli
