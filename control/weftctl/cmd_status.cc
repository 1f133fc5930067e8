// weftctl status --controller URL [--ca F] [--cert F --key F | --token T] [--json]
//
// The controller's desired version and, per node of the policy: connected or
// not, the version it last applied, the version that last changed its tables,
// and its last error. Exit 0 when every node is connected and runs its
// current tables, 1 when one is not, 2 on a usage, connection or API error.

#include <cstdio>

#include "control/weftctl/commands.h"
#include "control/weftctl/controller_cli.h"

namespace weft::cli {
namespace {

constexpr const char* kStatusUsage =
    "usage: weftctl status --controller https://HOST:PORT --ca CA.pem\n"
    "                      (--cert CERT.pem --key KEY.pem | --token TOKEN | --token-file FILE)\n"
    "                      [--timeout SECONDS] [--json]\n"
    "exit status: 0 every node in sync, 1 some node is not, 2 error\n";

}  // namespace

int cmd_status(int argc, char** argv) {
  auto args = parse_args(argc, argv, "status", {WEFTCTL_CONTROLLER_OPTIONS}, {"--json"});
  if (args && args->help) {
    std::fputs(kStatusUsage, stdout);
    return kExitOk;
  }
  if (!args || !args->positional.empty()) {
    std::fputs(kStatusUsage, stderr);
    return kExitUsage;
  }
  auto client = controller_client(*args, "status");
  if (!client) return kExitUsage;
  auto report = fetch_status(*client, "status");
  if (!report) return kExitUsage;
  if (args->flag("--json"))
    std::printf("%s\n", ctl::api::to_json(*report).c_str());
  else
    print_status(*report, stdout);
  return converged(*report) ? kExitOk : kExitNegative;
}

}  // namespace weft::cli
