// weftctl apply POLICY... --controller URL [--ca F] [--cert F --key F | --token T]
//               [--wait SECONDS] [--json]
//
// Validates the policy locally (errors with their real file names), then PUTs
// it to the controller, which validates it again and, all or nothing,
// persists it and pushes the nodes whose tables changed. With --wait, then
// waits until every node runs its current tables.
//
// Exit 0: applied (and converged, with --wait). 1: the policy is invalid,
// here or at the controller (every error printed), or the nodes did not
// converge in time. 2: usage, I/O, connection or authentication error.

#include <chrono>
#include <cstdio>
#include <thread>

#include "control/model/loader.h"
#include "control/weftctl/commands.h"
#include "control/weftctl/controller_cli.h"

namespace weft::cli {
namespace {

constexpr const char* kApplyUsage =
    "usage: weftctl apply POLICY... --controller https://HOST:PORT --ca CA.pem\n"
    "                     (--cert CERT.pem --key KEY.pem | --token TOKEN | --token-file FILE)\n"
    "                     [--wait SECONDS] [--timeout SECONDS] [--json]\n"
    "exit status: 0 applied, 1 invalid policy (or not converged within --wait), 2 error\n";

// Polls the status until every node is in sync or `limit` passes.
int wait_converged(const ctl::api::ApiClient& client, std::chrono::seconds limit, bool json) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto delay = std::chrono::milliseconds(20);
  for (;;) {
    auto report = fetch_status(client, "apply");
    if (!report) return kExitUsage;
    const bool done = converged(*report);
    if (done || std::chrono::steady_clock::now() >= deadline) {
      if (json)
        std::printf("%s\n", ctl::api::to_json(*report).c_str());
      else
        print_status(*report, done ? stdout : stderr);
      if (!done) std::fprintf(stderr, "weftctl apply: nodes not in sync after %llds\n",
                              static_cast<long long>(limit.count()));
      return done ? kExitOk : kExitNegative;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(500));
  }
}

}  // namespace

int cmd_apply(int argc, char** argv) {
  auto args = parse_args(argc, argv, "apply", {WEFTCTL_CONTROLLER_OPTIONS, "--wait"}, {"--json"});
  if (args && args->help) {
    std::fputs(kApplyUsage, stdout);
    return kExitOk;
  }
  if (!args || args->positional.empty()) {
    std::fputs(kApplyUsage, stderr);
    return kExitUsage;
  }
  std::chrono::seconds wait{0};
  if (const auto* w = args->value("--wait")) {
    char* end = nullptr;
    long s = std::strtol(w->c_str(), &end, 10);
    if (end == w->c_str() || *end || s <= 0) {
      std::fputs("weftctl apply: --wait takes a positive number of seconds\n", stderr);
      return kExitUsage;
    }
    wait = std::chrono::seconds(s);
  }
  auto client = controller_client(*args, "apply");
  if (!client) return kExitUsage;

  Diagnostics diags;
  auto files = policy::policy_files(args->positional, diags);
  if (!files) {
    std::fputs(diags.format().c_str(), stderr);
    return kExitUsage;
  }
  std::optional<policy::Model> model;
  if (int rc = load_policy_for_cli(*files, model); rc != kExitOk) return rc;
  std::string error;
  auto body = policy_body(*files, error);
  if (!body) {
    std::fprintf(stderr, "weftctl apply: %s\n", error.c_str());
    return kExitUsage;
  }

  auto reply = client->request("PUT", "/v1/policy", std::move(*body), "application/yaml");
  if (!reply) {
    std::fprintf(stderr, "weftctl apply: %s\n", reply.error().c_str());
    return kExitUsage;
  }
  if (reply->status == 400) {
    // Valid here, invalid there: a controller of another version, most likely.
    auto errors = ctl::api::parse_errors(reply->body);
    if (!errors) {
      std::fprintf(stderr, "weftctl apply: controller refused the policy: %s\n", reply->body.c_str());
      return kExitNegative;
    }
    for (const auto& d : *errors) std::fprintf(stderr, "%s\n", d.format().c_str());
    std::fprintf(stderr, "controller refused the policy: %zu error%s\n", errors->size(),
                 errors->size() == 1 ? "" : "s");
    return kExitNegative;
  }
  if (reply->status != 200) {
    std::fprintf(stderr, "weftctl apply: controller answered %d: %s\n", reply->status,
                 ctl::api::parse_error_message(reply->body).c_str());
    return kExitUsage;
  }
  auto result = ctl::api::parse_apply(reply->body);
  if (!result) {
    std::fprintf(stderr, "weftctl apply: %s\n", result.error().c_str());
    return kExitUsage;
  }
  if (wait.count() == 0 && args->flag("--json")) {
    std::printf("%s\n", reply->body.c_str());
  } else if (!args->flag("--json")) {
    if (result->unchanged) {
      std::printf("version %llu is already in force; nothing changed\n",
                  static_cast<unsigned long long>(result->version));
    } else {
      std::string nodes;
      for (const auto& n : result->changed_nodes) nodes += (nodes.empty() ? "" : ", ") + n;
      std::printf("applied version %llu; %zu node%s updated%s%s\n",
                  static_cast<unsigned long long>(result->version), result->changed_nodes.size(),
                  result->changed_nodes.size() == 1 ? "" : "s", nodes.empty() ? "" : ": ",
                  nodes.c_str());
    }
  }
  return wait.count() > 0 ? wait_converged(*client, wait, args->flag("--json")) : kExitOk;
}

}  // namespace weft::cli
