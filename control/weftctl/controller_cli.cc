#include "control/weftctl/controller_cli.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/yaml_doc.h"

namespace weft::cli {
namespace {

std::optional<std::string> read_text(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

}  // namespace

std::optional<ctl::api::ApiClient> controller_client(const ParsedArgs& args, const char* command) {
  const auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "weftctl %s: %s\n", command, why.c_str());
    return std::nullopt;
  };
  ctl::api::ApiClientOptions o;
  const std::string* url = args.value("--controller");
  if (!url) return fail("--controller URL is required");
  o.url = *url;
  if (const auto* v = args.value("--ca")) o.tls.ca = *v;
  if (const auto* v = args.value("--cert")) o.tls.cert = *v;
  if (const auto* v = args.value("--key")) o.tls.key = *v;
  if (o.tls.cert.empty() != o.tls.key.empty()) return fail("--cert and --key go together");
  if (const auto* v = args.value("--token")) o.token = *v;
  if (const auto* v = args.value("--token-file")) {
    std::string error;
    auto text = read_text(*v, error);
    if (!text) return fail("--token-file " + error);
    o.token = trim(*text);
  }
  if (o.token.empty())
    if (const char* env = std::getenv("WEFT_API_TOKEN")) o.token = trim(env);
  if (o.tls.cert.empty() && o.token.empty())
    return fail("authenticate with --cert/--key or a token (--token, --token-file, $WEFT_API_TOKEN)");
  if (const auto* v = args.value("--timeout")) {
    unsigned s = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), s);
    if (ec != std::errc() || p != v->data() + v->size() || s == 0)
      return fail("--timeout takes a positive number of seconds");
    o.timeout = std::chrono::seconds(s);
  }
  auto client = ctl::api::ApiClient::create(std::move(o));
  if (!client) return fail(client.error());
  return std::move(*client);
}

std::optional<std::string> policy_body(const std::vector<std::string>& files, std::string& error) {
  if (files.size() == 1) return read_text(files.front(), error);
  // Merge: one `version`, every list of every file in order. The files were
  // validated just before, so their shape is known to be right.
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto& f : files) {
    Diagnostics diags;
    auto doc = load_yaml_file(f, diags);
    if (!doc) {
      error = diags.format();
      return std::nullopt;
    }
    for (const auto& kv : *doc) {
      const auto key = kv.first.as<std::string>();
      if (kv.second.IsSequence()) {
        for (const auto& item : kv.second) merged[key].push_back(item);
      } else if (!merged[key]) {
        merged[key] = kv.second;
      }
    }
  }
  YAML::Emitter out;
  out << merged;
  if (!out.good()) {
    error = std::string("cannot merge the policy files: ") + out.GetLastError();
    return std::nullopt;
  }
  return std::string(out.c_str(), out.size()) + "\n";
}

std::optional<ctl::api::StatusReport> fetch_status(const ctl::api::ApiClient& client,
                                                   const char* command) {
  auto reply = client.request("GET", "/v1/status");
  if (!reply) {
    std::fprintf(stderr, "weftctl %s: %s\n", command, reply.error().c_str());
    return std::nullopt;
  }
  if (reply->status != 200) {
    std::fprintf(stderr, "weftctl %s: controller answered %d: %s\n", command, reply->status,
                 ctl::api::parse_error_message(reply->body).c_str());
    return std::nullopt;
  }
  auto report = ctl::api::parse_status(reply->body);
  if (!report) {
    std::fprintf(stderr, "weftctl %s: %s\n", command, report.error().c_str());
    return std::nullopt;
  }
  return std::move(*report);
}

bool converged(const ctl::api::StatusReport& s) {
  return s.desired_version > 0 &&
         std::all_of(s.nodes.begin(), s.nodes.end(), [](const auto& n) { return n.in_sync; });
}

void print_status(const ctl::api::StatusReport& s, FILE* out) {
  std::fprintf(out, "desired version %llu\n", static_cast<unsigned long long>(s.desired_version));
  size_t name_w = 4, addr_w = 7;
  for (const auto& n : s.nodes) {
    name_w = std::max(name_w, n.name.size());
    addr_w = std::max(addr_w, n.address.size());
  }
  const int nw = static_cast<int>(name_w), aw = static_cast<int>(addr_w);
  std::fprintf(out, "%-*s  %-9s  %-*s  %7s  %6s  %-8s  %s\n", nw, "NODE", "CONNECTED", aw, "ADDRESS",
               "APPLIED", "TABLES", "STATE", "LAST ERROR");
  for (const auto& n : s.nodes) {
    const char* state = n.in_sync ? "in sync" : !n.connected ? "away" : "updating";
    std::fprintf(out, "%-*s  %-9s  %-*s  %7llu  %6llu  %-8s%s%s\n", nw, n.name.c_str(),
                 n.connected ? "yes" : "no", aw, n.address.empty() ? "-" : n.address.c_str(),
                 static_cast<unsigned long long>(n.applied_version),
                 static_cast<unsigned long long>(n.tables_version), state,
                 n.last_error.empty() ? "" : "  ", n.last_error.c_str());
  }
  // The load balancers' backends, as the node hosting each reported it.
  bool header = false;
  for (const auto& n : s.nodes)
    for (const auto& b : n.backends) {
      if (!header) std::fprintf(out, "\n%-*s  %-20s  %-20s  %s\n", nw, "NODE", "LOAD BALANCER", "BACKEND", "HEALTH");
      header = true;
      std::fprintf(out, "%-*s  %-20s  %-20s  %s\n", nw, n.name.c_str(), b.load_balancer.c_str(), b.port.c_str(),
                   b.up ? "up" : "down");
    }
}

}  // namespace weft::cli
