// weftctl diff OLD NEW
//
// Compiles two versions of a policy (each a file or a directory) for every
// node and prints, per node, the table entries removed (-) and added (+):
// lines of the canonical text form of `weftctl compile`. Like diff(1): exit
// 0 when every node's tables are identical, 1 when they differ, 2 on an
// error (usage, I/O, or an invalid policy: its errors on stderr).

#include <cstdio>
#include <string>

#include "control/compile/compile.h"
#include "control/compile/tables_diff.h"
#include "control/weftctl/commands.h"
#include "control/weftctl/policy_cli.h"

namespace weft::cli {
namespace {

constexpr const char* kDiffUsage = "usage: weftctl diff OLD NEW   (each a policy file or directory)\n";

}  // namespace

int cmd_diff(int argc, char** argv) {
  auto args = parse_args(argc, argv, "diff", {}, {});
  if (args && args->help) {
    std::fputs(kDiffUsage, stdout);
    return kExitOk;
  }
  if (!args || args->positional.size() != 2) {
    std::fputs(kDiffUsage, stderr);
    return kExitUsage;
  }
  std::optional<policy::Model> before, after;
  if (load_policy_for_cli({args->positional[0]}, before) != kExitOk) return kExitUsage;
  if (load_policy_for_cli({args->positional[1]}, after) != kExitOk) return kExitUsage;

  policy::TablesDiff diff =
      policy::diff_tables(policy::compile_all(*before), policy::compile_all(*after));
  if (diff.empty()) return kExitOk;
  std::fputs(policy::render_diff(diff).c_str(), stdout);
  std::printf("%zu node%s changed: %zu entr%s added, %zu removed\n", diff.nodes.size(),
              diff.nodes.size() == 1 ? "" : "s", diff.added(), diff.added() == 1 ? "y" : "ies",
              diff.removed());
  return kExitNegative;
}

}  // namespace weft::cli
