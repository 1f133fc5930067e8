// weftctl node conns --socket PATH [--address IP] [--l4-port N] [--port NAME]
//                    [--state STATE] [--proto tcp|udp|icmp] [--limit N]
//                    [--cursor C] [--json]
//
// A running weftd's connection tables, as `conntrack -L` shows the kernel's:
// one line per connection, the original tuple then the reply tuple (for a
// translated connection, the tuple its replies carry), flags, the network's
// VNI, the worker, the snapshot generation it was decided under and the
// seconds since its last packet. weftd answers a page at a time
// (dataplane/weftd/conns_command.h); this asks page after page until
// --limit connections (default 1000) are shown or the tables are done, and
// says how to continue when they are not (--cursor).

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/weftctl/commands.h"
#include "control/weftctl/node_socket.h"

namespace weft::cli {
namespace {

using nlohmann::json;

constexpr const char* kNodeConnsUsage =
    "usage: weftctl node conns --socket PATH [--address IP] [--l4-port N] [--port NAME]\n"
    "                          [--state STATE] [--proto tcp|udp|icmp] [--limit N] [--cursor C] [--json]\n"
    "\n"
    "  --address IP   connections with IP at either end, either direction\n"
    "  --l4-port N    TCP/UDP port N at either end (ICMP: echo identifier)\n"
    "  --port NAME    connections a policy port (vNIC) receives or sends\n"
    "  --state STATE  ESTABLISHED, SYN_SENT, UDP_REPLIED, ICMP_UNREPLIED, ...\n"
    "  --limit N      show at most N connections (default 1000)\n"
    "  --cursor C     continue where an earlier listing stopped\n";

constexpr uint64_t kDefaultLimit = 1000;
constexpr uint64_t kPage = 1000;  // weftd's largest page

std::string tuple_text(const json& t, const std::string& proto) {
  std::string s = "src=" + t.value("src", "?") + " dst=" + t.value("dst", "?");
  if (proto == "icmp" && t.contains("id")) s += " id=" + std::to_string(t["id"].get<uint64_t>());
  if (t.contains("sport"))
    s += " sport=" + std::to_string(t["sport"].get<uint64_t>()) + " dport=" + std::to_string(t["dport"].get<uint64_t>());
  return s;
}

void print_conn(const json& c) {
  const std::string proto = c.value("proto", "?");
  const json& o = c.at("original");
  const json& r = c.at("reply");
  std::string line = proto;
  line.resize(std::max<size_t>(line.size(), 5), ' ');
  line += " " + c.value("state", "?");
  line += " " + tuple_text(o, proto);
  if (!c.value("replied", false)) line += " [UNREPLIED]";
  line += " " + tuple_text(r, proto);
  if (c.value("class", "") == "assured") line += " [ASSURED]";
  if (c.value("cut", false)) line += " [CUT]";
  if (c.value("translated", false)) line += " [TRANSLATED]";
  line += " vni=" + std::to_string(o.value("vni", uint64_t{0}));
  if (r.value("vni", uint64_t{0}) != o.value("vni", uint64_t{0}))
    line += " reply_vni=" + std::to_string(r.value("vni", uint64_t{0}));
  if (c.contains("ports")) {
    for (const auto& [dir, p] : c["ports"].items()) {
      const std::string in = p.value("in", ""), out = p.value("out", "");
      line += " " + dir + "=" + (in.empty() ? "?" : in) + ">" + (out.empty() ? "?" : out);
    }
  }
  char idle[32];
  std::snprintf(idle, sizeof idle, "%.1f", c.value("idle_seconds", 0.0));
  line += " worker=" + std::to_string(c.value("worker", 0)) + " gen=" + std::to_string(c.value("generation", 0)) +
          " idle=" + idle + "s";
  std::printf("%s\n", line.c_str());
}

bool parse_u64(const char* s, uint64_t& v) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long x = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') return false;
  v = x;
  return true;
}

}  // namespace

int cmd_node_conns(int argc, char** argv) {
  std::string socket;
  bool as_json = false;
  uint64_t limit = kDefaultLimit, cursor = 0;
  json filters = json::object();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      std::fputs(kNodeConnsUsage, stdout);
      return 0;
    } else if (a == "--json") {
      as_json = true;
    } else if (!has_value && a.starts_with("--")) {
      std::fprintf(stderr, "weftctl node conns: %s needs a value\n%s", a.c_str(), kNodeConnsUsage);
      return 2;
    } else if (a == "--socket") {
      socket = argv[++i];
    } else if (a == "--address" || a == "--port" || a == "--state" || a == "--proto") {
      filters[a.substr(2)] = argv[++i];
    } else if (a == "--l4-port" || a == "--limit" || a == "--cursor") {
      uint64_t v = 0;
      if (!parse_u64(argv[++i], v) || (a == "--l4-port" && v > 65535) || (a == "--limit" && v == 0)) {
        std::fprintf(stderr, "weftctl node conns: %s '%s': not a valid number\n", a.c_str(), argv[i]);
        return 2;
      }
      if (a == "--l4-port") filters["l4_port"] = v;
      else if (a == "--limit") limit = v;
      else cursor = v;
    } else {
      std::fprintf(stderr, "weftctl node conns: unexpected argument '%s'\n%s", a.c_str(), kNodeConnsUsage);
      return 2;
    }
  }
  if (socket.empty()) {
    std::fprintf(stderr, "%s", kNodeConnsUsage);
    return 2;
  }

  json all = json::array();
  json next = cursor;
  uint64_t generation = 0;
  while (!next.is_null() && all.size() < limit) {
    json req = filters;
    req["command"] = "conns";
    req["cursor"] = next;
    req["limit"] = std::min<uint64_t>(kPage, limit - all.size());
    int code = 0;
    const std::optional<json> result = node_command(socket, req, "weftctl", code);
    if (!result) return code;
    const json& page = *result;
    for (const json& c : page.value("connections", json::array())) all.push_back(c);
    generation = page.value("generation", uint64_t{0});
    next = page.value("next_cursor", json(nullptr));
  }

  if (as_json) {
    std::printf("%s\n", json{{"connections", all}, {"next_cursor", next}, {"generation", generation}}.dump(2).c_str());
    return 0;
  }
  for (const json& c : all) print_conn(c);
  std::fprintf(stderr, "weftctl: %zu connection(s) shown (snapshot generation %llu)", all.size(),
               static_cast<unsigned long long>(generation));
  if (!next.is_null())
    std::fprintf(stderr, "; more: --cursor %llu\n", static_cast<unsigned long long>(next.get<uint64_t>()));
  else
    std::fprintf(stderr, "\n");
  return 0;
}

}  // namespace weft::cli
