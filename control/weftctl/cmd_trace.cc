// weftctl trace POLICY... [--node NAME] [--from PORT] [--reply] [--json] 'PACKET'
// weftctl trace --socket PATH [--from PORT] [--reply] [--json] 'PACKET'
//
// A packet's path through weftd's real pipeline stage by stage, each
// decision with the table entry behind it and the policy FILE:LINE:COLUMN
// that wrote it, and its verdict (dataplane/trace/). Offline, the policy
// is compiled for the node (by default the sender's) and the stages run in
// this process on the tables built from it; without --node the packet is
// followed through the tunnel onto the node it is sent to. Live
// (--socket), a running weftd traces it on the tables it forwards with,
// transmitting nothing and counting nothing.
//
// PACKET: dataplane/trace/trace_packet.h ('tcp 10.1.1.10:1234 >
// 10.1.2.20:5432', 'icmp A > B', options flags/type/code/id/vlan/ttl/len).
// Exit 0 with a trace; 1 for an invalid policy or a refused trace; 2 for a
// usage or I/O error.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/weftctl/commands.h"
#include "control/weftctl/node_socket.h"
#include "control/weftctl/policy_cli.h"
#include "control/weftctl/trace_offline.h"
#include "control/weftctl/trace_text.h"
#include "dataplane/trace/offline_node.h"

namespace weft::cli {
namespace {

using nlohmann::json;

constexpr const char* kTraceUsage =
    "usage: weftctl trace POLICY... [--node NAME] [--from PORT] [--reply] [--json] 'PACKET'\n"
    "       weftctl trace --socket PATH [--from PORT] [--reply] [--json] 'PACKET'\n"
    "\n"
    "  PACKET   'tcp 10.1.1.10:1234 > 10.1.2.20:5432' [flags SA] | 'udp A:P > B:P' |\n"
    "           'icmp A > B' [type T code C id I]; any of them [vlan V] [ttl N] [len BYTES]\n"
    "  --from   the sending port (default: the port holding the source address)\n"
    "  --node   trace on this node only (default: the sender's, then the node a tunnel leads to)\n"
    "  --reply  trace the answer of the destination on the connection the packet opens\n"
    "  --socket trace live on a running weftd's tables\n";

int print(const json& hops, bool as_json) {
  if (as_json) {
    std::printf("%s\n", hops.dump(2).c_str());
    return kExitOk;
  }
  for (const json& h : hops) std::fputs(trace_text(h).c_str(), stdout);
  return kExitOk;
}

int live(const ParsedArgs& args, const std::string& packet) {
  const std::string& socket = *args.value("--socket");
  json req = {{"command", "trace"}, {"packet", packet}, {"reply", args.flag("--reply")}};
  if (const std::string* from = args.value("--from")) req["from"] = *from;
  int code = 0;
  const std::optional<json> result = node_command(socket, req, "weftctl trace", code);
  if (!result) return code;
  return print(json::array({*result}), args.flag("--json"));
}

// The port of `m` holding `ip`, preferring one in `network`.
std::string port_holding(const policy::Model& m, uint32_t ip, const std::string& network) {
  std::string any;
  for (const policy::Port& p : m.ports) {
    if (p.ip != ip) continue;
    if (p.network == network) return p.name;
    if (any.empty()) any = p.name;
  }
  return any;
}

}  // namespace

int cmd_trace(int argc, char** argv) {
  auto args = parse_args(argc, argv, "trace", {"--node", "--from", "--socket"}, {"--reply", "--json"});
  if (args && args->help) {
    std::fputs(kTraceUsage, stdout);
    return kExitOk;
  }
  const bool is_live = args && args->value("--socket");
  if (!args || args->positional.empty() || (is_live && args->positional.size() != 1) ||
      (!is_live && args->positional.size() < 2) || (is_live && args->value("--node"))) {
    std::fputs(kTraceUsage, stderr);
    return kExitUsage;
  }
  const std::string packet_text = args->positional.back();
  std::string error;
  auto packet = dp::parse_trace_packet(packet_text, error);
  if (!packet) {
    std::fprintf(stderr, "weftctl trace: %s\n", error.c_str());
    return kExitUsage;
  }
  if (is_live) return live(*args, packet_text);

  std::vector<std::string> paths(args->positional.begin(), args->positional.end() - 1);
  std::optional<policy::Model> model;
  if (int rc = load_policy_for_cli(paths, model); rc != kExitOk) return rc;
  std::string sender = args->value("--from") ? *args->value("--from") : port_holding(*model, packet->src, "");
  if (sender.empty() || !model->index.ports.count(sender)) {
    std::fprintf(stderr, "weftctl trace: %s\n",
                 sender.empty() ? ("no port holds " + format_ipv4(packet->src) + ": name the sender with --from").c_str()
                                : ("the policy has no port named '" + sender + "'").c_str());
    return kExitUsage;
  }
  const std::string* node = args->value("--node");
  if (node && !model->index.nodes.count(*node)) {
    std::fprintf(stderr, "weftctl trace: the policy has no node named '%s'\n", node->c_str());
    return kExitUsage;
  }
  rte_mempool* pool = dp::start_trace_eal(error);
  if (pool == nullptr) {
    std::fprintf(stderr, "weftctl trace: %s\n", error.c_str());
    return kExitUsage;
  }
  OfflineNodes nodes(*model, pool);
  const bool follow = node == nullptr;
  auto start = [&](const std::string& port) { return node ? *node : nodes.node_of_port(port); };
  dp::TracePacket traced = *packet;
  if (args->flag("--reply")) {
    const std::string& network = model->ports[model->index.ports.at(sender)].network;
    const std::string replier = port_holding(*model, packet->dst, network);
    if (replier.empty()) {
      std::fprintf(stderr, "weftctl trace: --reply: no port holds %s\n", format_ipv4(packet->dst).c_str());
      return kExitUsage;
    }
    if (!nodes.trace(start(sender), sender, *packet, follow, error)) {
      std::fprintf(stderr, "weftctl trace: %s\n", error.c_str());
      return kExitNegative;
    }
    sender = replier;
    traced = dp::reply_packet(*packet);
  }
  auto hops = nodes.trace(start(sender), sender, traced, follow, error);
  if (!hops) {
    std::fprintf(stderr, "weftctl trace: %s\n", error.c_str());
    return kExitNegative;
  }
  json out = json::array();
  for (TraceHop& h : *hops) {
    h.json["reply"] = args->flag("--reply");
    out.push_back(std::move(h.json));
  }
  return print(out, args->flag("--json"));
}

}  // namespace weft::cli
