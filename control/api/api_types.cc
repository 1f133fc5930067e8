#include "control/api/api_types.h"

#include <nlohmann/json.hpp>

namespace weft::ctl::api {
namespace {

using nlohmann::json;

// Messages may quote user input: invalid UTF-8 is replaced, never thrown on.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json diagnostics(const std::vector<Diagnostic>& errors) {
  json list = json::array();
  for (const auto& d : errors)
    list.push_back({{"file", d.pos.file},
                    {"line", d.pos.line},
                    {"column", d.pos.column},
                    {"message", d.message}});
  return list;
}

// Runs `read` over the parsed document; any parse or type error becomes the
// Expected's error (nlohmann reports both by exception, which stop here).
template <class T, class F>
Expected<T> read_json(std::string_view text, std::string_view what, F read) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Unexpected{std::string(what) + ": not JSON"};
  try {
    return read(doc);
  } catch (const json::exception& e) {
    return Unexpected{std::string(what) + ": " + e.what()};
  }
}

}  // namespace

std::string to_json(const ApplyResult& r) {
  return dump({{"version", r.version}, {"changed_nodes", r.changed_nodes}, {"unchanged", r.unchanged}});
}

namespace {

json backends_json(const std::vector<BackendHealthStatus>& backends) {
  json out = json::array();
  for (const BackendHealthStatus& b : backends)
    out.push_back({{"load_balancer", b.load_balancer}, {"port", b.port}, {"up", b.up}});
  return out;
}

}  // namespace

std::string to_json(const StatusReport& r) {
  json nodes = json::array();
  for (const auto& n : r.nodes)
    nodes.push_back({{"name", n.name},
                     {"connected", n.connected},
                     {"address", n.address},
                     {"applied_version", n.applied_version},
                     {"tables_version", n.tables_version},
                     {"in_sync", n.in_sync},
                     {"last_error", n.last_error},
                     {"lb_backends", backends_json(n.backends)}});
  return dump({{"desired_version", r.desired_version}, {"nodes", nodes}});
}

std::string errors_json(const std::vector<Diagnostic>& errors) {
  return dump({{"errors", diagnostics(errors)}});
}

std::string validate_json(const std::vector<Diagnostic>& errors) {
  return dump({{"valid", errors.empty()}, {"errors", diagnostics(errors)}});
}

std::string error_json(std::string_view message) {
  return dump({{"error", message}});
}

Expected<ApplyResult> parse_apply(std::string_view text) {
  return read_json<ApplyResult>(text, "apply answer", [](const json& j) {
    ApplyResult r;
    r.version = j.at("version").get<uint64_t>();
    r.changed_nodes = j.at("changed_nodes").get<std::vector<std::string>>();
    r.unchanged = j.value("unchanged", false);
    return r;
  });
}

Expected<StatusReport> parse_status(std::string_view text) {
  return read_json<StatusReport>(text, "status answer", [](const json& j) {
    StatusReport r;
    r.desired_version = j.at("desired_version").get<uint64_t>();
    for (const auto& n : j.at("nodes")) {
      NodeStatus s;
      s.name = n.at("name").get<std::string>();
      s.connected = n.at("connected").get<bool>();
      s.address = n.value("address", "");
      s.applied_version = n.at("applied_version").get<uint64_t>();
      s.tables_version = n.value("tables_version", uint64_t{0});
      s.in_sync = n.value("in_sync", false);
      s.last_error = n.value("last_error", "");
      for (const auto& b : n.value("lb_backends", json::array()))
        s.backends.push_back({b.at("load_balancer").get<std::string>(), b.at("port").get<std::string>(),
                              b.at("up").get<bool>()});
      r.nodes.push_back(std::move(s));
    }
    return r;
  });
}

Expected<std::vector<Diagnostic>> parse_errors(std::string_view text) {
  return read_json<std::vector<Diagnostic>>(text, "error list", [](const json& j) {
    std::vector<Diagnostic> out;
    for (const auto& e : j.at("errors")) {
      Diagnostic d;
      d.pos.file = e.value("file", "");
      d.pos.line = e.value("line", 0);
      d.pos.column = e.value("column", 0);
      d.message = e.at("message").get<std::string>();
      out.push_back(std::move(d));
    }
    return out;
  });
}

std::string parse_error_message(std::string_view body) {
  auto msg = read_json<std::string>(body, "error", [](const json& j) {
    return j.at("error").get<std::string>();
  });
  return msg ? *msg : std::string(body.substr(0, 500));
}

}  // namespace weft::ctl::api
