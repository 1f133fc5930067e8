#pragma once
// What weftctl's controller commands (apply, status) share: the connection
// options and the API client built from them, the policy body for a PUT,
// and waiting for the nodes to converge.
//
//   --controller URL       https://HOST:PORT of weft-controller's API
//   --ca FILE              CA that signed the controller (required)
//   --cert FILE --key FILE a client certificate signed by the same CA, or
//   --token TOKEN | --token-file FILE   a bearer token (also $WEFT_API_TOKEN)
//   --timeout SECONDS      per request (default 30)
//
// Single-threaded CLI helpers; errors are printed to stderr.

#include <optional>
#include <string>
#include <vector>

#include "control/api/api_client.h"
#include "control/api/api_types.h"
#include "control/weftctl/policy_cli.h"

namespace weft::cli {

// Option names for parse_args(), in addition to a command's own.
#define WEFTCTL_CONTROLLER_OPTIONS \
  "--controller", "--ca", "--cert", "--key", "--token", "--token-file", "--timeout"

// The client for the options in `args`; nullopt (with the reason printed)
// on a usage error.
std::optional<ctl::api::ApiClient> controller_client(const ParsedArgs& args, const char* command);

// The YAML to PUT for policy `files` (already validated): a single file as
// written, several merged into one document (their sequences concatenated,
// as the loader merges them).
std::optional<std::string> policy_body(const std::vector<std::string>& files, std::string& error);

// Fetches /v1/status; nullopt with the reason printed on failure.
std::optional<ctl::api::StatusReport> fetch_status(const ctl::api::ApiClient& client,
                                                   const char* command);

// Every node of the policy is connected and runs its current tables.
bool converged(const ctl::api::StatusReport& s);

// Prints a status report as a table.
void print_status(const ctl::api::StatusReport& s, FILE* out);

}  // namespace weft::cli
