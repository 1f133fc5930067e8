#pragma once
// The northbound API's documents and their JSON, written by the controller
// and read by weftctl, so both ends share one schema:
//
//   PUT  /v1/policy    200 {"version": 7, "changed_nodes": ["node-a"], "unchanged": false}
//                      400 {"errors": [{"file", "line", "column", "message"}, ...]}
//   GET  /v1/policy    200 the YAML, header X-Weft-Version: 7; 404 before the first PUT
//   POST /v1/validate  200 {"valid": false, "errors": [...]}
//   GET  /v1/status    200 {"desired_version": 7, "nodes": [{"name", "connected",
//                          "address", "applied_version", "tables_version",
//                          "in_sync", "last_error"}, ...]}
//   any failure        4xx/5xx {"error": "why"}
//
// Parsing never throws: a malformed document is an Expected error.
// Thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"
#include "common/base/expected.h"
#include "control/server/node_status.h"

namespace weft::ctl::api {

struct ApplyResult {
  uint64_t version = 0;
  std::vector<std::string> changed_nodes;  // nodes that were sent new tables
  bool unchanged = false;                  // same YAML as in force: nothing done
};

struct StatusReport {
  uint64_t desired_version = 0;
  std::vector<NodeStatus> nodes;
};

std::string to_json(const ApplyResult& r);
std::string to_json(const StatusReport& r);
// {"errors": [...]} for a rejected PUT; with "valid" for /v1/validate.
std::string errors_json(const std::vector<Diagnostic>& errors);
std::string validate_json(const std::vector<Diagnostic>& errors);
std::string error_json(std::string_view message);

Expected<ApplyResult> parse_apply(std::string_view json);
Expected<StatusReport> parse_status(std::string_view json);
// The "errors" list of a 400 or of /v1/validate.
Expected<std::vector<Diagnostic>> parse_errors(std::string_view json);
// The "error" string of a failure answer; the raw body when there is none.
std::string parse_error_message(std::string_view body);

}  // namespace weft::ctl::api
