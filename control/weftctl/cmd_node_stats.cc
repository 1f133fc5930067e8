// weftctl node stats --socket PATH [--json]
//
// Asks a running weftd for its counters over its control socket (see
// dataplane/control_socket/control_server.h) and prints ports, drop reasons
// and workers as aligned tables, or the daemon's JSON as is with --json.

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/weftctl/commands.h"
#include "control/weftctl/node_socket.h"

namespace weft::cli {
namespace {

using nlohmann::json;

// Columns of text; numbers right-aligned, words left-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(FILE* out) const {
    std::vector<size_t> width(rows_.front().size(), 0);
    std::vector<bool> numeric(width.size(), true);
    for (size_t r = 0; r < rows_.size(); ++r)
      for (size_t c = 0; c < rows_[r].size() && c < width.size(); ++c) {
        width[c] = std::max(width[c], rows_[r][c].size());
        if (r > 0 && !is_number(rows_[r][c])) numeric[c] = false;
      }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
        const std::string pad(width[c] - row[c].size(), ' ');
        if (c > 0) line += "  ";
        line += numeric[c] ? pad + row[c] : row[c] + (c + 1 < row.size() ? pad : "");
      }
      std::fprintf(out, "%s\n", line.c_str());
    }
  }

 private:
  static bool is_number(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789.-") == std::string::npos;
  }
  std::vector<std::vector<std::string>> rows_;
};

std::string num(const json& j, const char* key) {
  if (!j.contains(key)) return "-";
  const json& v = j[key];
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v.get<double>());
    return buf;
  }
  return v.is_number() ? std::to_string(v.get<uint64_t>()) : v.is_string() ? v.get<std::string>() : "-";
}

void print_tables(const json& s) {
  const uint64_t version = s.value("policy_version", uint64_t{0});
  const std::string policy = version == 0 ? "no policy applied" : "policy version " + std::to_string(version);
  std::printf("node %s: %s mode, snapshot generation %s, %s\n", s.value("node", "?").c_str(),
              s.value("mode", "?").c_str(), num(s, "generation").c_str(), policy.c_str());
  if (s.contains("controller")) {
    const json& c = s["controller"];
    const std::string error = c.value("last_error", "");
    std::printf("controller %s: %s, applied version %s%s%s\n", c.value("address", "?").c_str(),
                c.value("connected", false) ? "connected" : "not connected", num(c, "applied_version").c_str(),
                error.empty() ? "" : ", last error: ", error.c_str());
  }
  std::printf("\n");

  Table ports({"PORT", "KIND", "ID", "LINK", "RX PACKETS", "RX BYTES", "TX PACKETS", "TX BYTES", "DROPS",
               "SG IN DENIED", "SG OUT DENIED", "RX MISSED"});
  for (const json& p : s.value("ports", json::array()))
    ports.add({p.value("name", "?"), p.value("kind", "?"), num(p, "port_id"), p.value("link", "?"),
               num(p, "rx_packets"), num(p, "rx_bytes"), num(p, "tx_packets"), num(p, "tx_bytes"),
               num(p, "drops"), num(p, "sg_ingress_denied"), num(p, "sg_egress_denied"),
               num(p, "rx_missed")});
  ports.print(stdout);

  std::printf("\n");
  Table drops({"DROP REASON", "PACKETS", "STAGE", "MEANING"});
  size_t shown = 0;
  for (const json& d : s.value("drops", json::array())) {
    if (d.value("count", uint64_t{0}) == 0) continue;
    // One line per stage that dropped for this reason: "where" is half the answer.
    const json stages = d.value("stages", json::object());
    if (stages.empty()) drops.add({d.value("reason", "?"), num(d, "count"), "", d.value("description", "")});
    for (const auto& [stage, count] : stages.items())
      drops.add({d.value("reason", "?"), std::to_string(count.get<uint64_t>()), stage, d.value("description", "")});
    ++shown;
  }
  if (shown == 0) std::printf("no packets dropped\n");
  else drops.print(stdout);

  std::printf("\n");
  Table workers({"WORKER", "LCORE", "POLLS", "IDLE POLLS", "SLEEPS", "RX PACKETS", "CYCLES/PACKET"});
  for (const json& w : s.value("workers", json::array()))
    workers.add({num(w, "index"), num(w, "lcore"), num(w, "polls"), num(w, "idle_polls"), num(w, "sleeps"),
                 num(w, "rx_packets"), num(w, "cycles_per_packet")});
  workers.print(stdout);

  // Each worker's connection table (the flow cache), in policy mode.
  Table conntrack({"WORKER", "CONNECTIONS", "ASSURED", "EMBRYONIC", "CLOSING", "CAPACITY", "BYTES/ENTRY",
                   "CREATED", "EXPIRED", "EVICTED", "CUT", "FULL"});
  size_t tables = 0;
  for (const json& w : s.value("workers", json::array())) {
    if (!w.contains("conntrack")) continue;
    const json& c = w["conntrack"];
    uint64_t evicted = 0;
    if (c.contains("evicted"))
      for (const auto& [cls, n] : c.at("evicted").items()) evicted += n.get<uint64_t>();
    conntrack.add({num(w, "index"), num(c, "connections"), num(c, "assured"), num(c, "embryonic"),
                   num(c, "closing"), num(c, "capacity"), num(c, "bytes_per_entry"), num(c, "created"),
                   num(c, "expired"), std::to_string(evicted), num(c, "cut"), num(c, "full")});
    ++tables;
  }
  if (tables != 0) {
    std::printf("\n");
    conntrack.print(stdout);
  }

  // Each vNIC's QoS, per direction and class: what its limits let through
  // and what they dropped.
  const json qos = s.value("qos", json::array());
  if (!qos.empty()) {
    Table t({"QOS PORT", "POLICY", "DIRECTION", "CLASS", "PRIORITY", "RATE BPS", "SENT PACKETS", "SENT BYTES",
             "POLICED PACKETS", "POLICED BYTES", "QUEUED PACKETS", "QUEUE FULL PACKETS"});
    for (const json& q : qos)
      t.add({q.value("port", "?"), q.value("policy", "?"), q.value("direction", "?"), q.value("class", "?"),
             q.value("priority", "?"), num(q, "rate_bps"), num(q, "sent_packets"), num(q, "sent_bytes"),
             num(q, "policed_packets"), num(q, "policed_bytes"), num(q, "queued_packets"),
             num(q, "queue_full_packets")});
    std::printf("\n");
    t.print(stdout);
  }

  // The load balancers' backends: in the selection or not, and the health
  // checks this node runs on the ones it hosts.
  const json lb = s.value("lb_health", json::object());
  if (!lb.value("backends", json::array()).empty()) {
    Table t({"LB BACKEND", "LOAD BALANCER", "IP", "WEIGHT", "HEALTH", "PROBED HERE", "PROBE PORT", "PROBES SENT",
             "PROBES FAILED", "FORGED REPLIES"});
    for (const json& b : lb["backends"]) {
      const bool here = b.value("probed_here", false);
      t.add({b.value("port", "?"), b.value("load_balancer", "?"), b.value("ip", "?"), num(b, "weight"),
             b.value("up", true) ? "up" : "down", here ? "yes" : "no", here ? num(b, "probe_port") : "-",
             here ? num(b, "probes_sent") : "-", here ? num(b, "probes_failed") : "-",
             here ? num(b, "replies_forged") : "-"});
    }
    std::printf("\n");
    t.print(stdout);
  }

  // The distributed router's ICMP errors and the DHCP server's answers.
  if (s.contains("router")) {
    const json& r = s["router"];
    std::printf("\nICMP errors sent %s, held back by the rate limit %s\n", num(r, "icmp_errors_sent").c_str(),
                num(r, "icmp_errors_limited").c_str());
    Table dhcp({"DHCP", "MESSAGES"});
    size_t answered = 0;
    // A named copy: items() refers to its json, which must outlive the loop.
    const json verdicts = r.value("dhcp", json::object());
    for (const auto& [verdict, n] : verdicts.items()) {
      if (n.get<uint64_t>() == 0) continue;
      dhcp.add({verdict, std::to_string(n.get<uint64_t>())});
      ++answered;
    }
    if (answered == 0) std::printf("no DHCP messages\n");
    else dhcp.print(stdout);
  }
}

}  // namespace

int cmd_node_stats(int argc, char** argv) {
  std::string socket;
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (!std::strcmp(argv[i], "--json")) {
      as_json = true;
    } else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf("usage: weftctl node stats --socket PATH [--json]\n");
      return 0;
    } else {
      std::fprintf(stderr, "weftctl node stats: unexpected argument '%s'\nusage: weftctl node stats --socket PATH [--json]\n", argv[i]);
      return 2;
    }
  }
  if (socket.empty()) {
    std::fprintf(stderr, "usage: weftctl node stats --socket PATH [--json]\n");
    return 2;
  }
  int code = 0;
  const std::optional<json> result = node_command(socket, json{{"command", "stats"}}, "weftctl", code);
  if (!result) return code;
  if (as_json) std::printf("%s\n", result->dump(2).c_str());
  else print_tables(*result);
  return 0;
}

}  // namespace weft::cli
