// weftctl: the Weft command line. Dispatches to the subcommands listed below.

#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "control/weftctl/commands.h"

namespace weft::cli {

// Add a command: declare its entry point here and list it in kCommands.
// int cmd_validate(int argc, char** argv);
int cmd_validate(int argc, char** argv);
int cmd_compile(int argc, char** argv);
int cmd_diff(int argc, char** argv);
int cmd_node_stats(int argc, char** argv);
int cmd_node_conns(int argc, char** argv);
int cmd_apply(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_can_reach(int argc, char** argv);

namespace {

constexpr Command kCommands[] = {
    // {"validate", "validate POLICY...            check a policy, print errors or a summary", cmd_validate},
    {"validate", "validate POLICY...                  check a policy: its errors, or a summary", cmd_validate},
    {"compile", "compile POLICY... --node NAME [--json]  a node's compiled tables", cmd_compile},
    {"diff", "diff OLD NEW                        per node, the table entries added and removed", cmd_diff},
    {"apply", "apply POLICY... --controller URL     validate, then push through the controller's API", cmd_apply},
    {"status", "status --controller URL             nodes and the version each applied", cmd_status},
    {"trace", "trace POLICY... [--node N] [--from PORT] [--reply] [--json] 'PACKET'  a packet through the real stages (--socket PATH: live)", cmd_trace},
    {"can-reach", "can-reach POLICY... --from PORT --to PORT|IP [--proto P/N] | --matrix  reachability, by the trace engine", cmd_can_reach},
    {"node stats", "node stats --socket PATH [--json]   ports, counters and drop reasons of a running weftd", cmd_node_stats},
    {"node conns", "node conns --socket PATH [filters]   the connection tables of a running weftd, as conntrack -L", cmd_node_conns},
    {"", "", nullptr},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: weftctl COMMAND [ARGS...]\n\ncommands:\n");
  for (const auto& c : kCommands)
    if (c.run) std::fprintf(out, "  %.*s\n", static_cast<int>(c.synopsis.size()), c.synopsis.data());
}

}  // namespace
}  // namespace weft::cli

int main(int argc, char** argv) {
  using namespace weft::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  // Two-word commands ("node stats") first, then one-word ones.
  for (const auto& c : kCommands) {
    if (!c.run) continue;
    auto space = c.name.find(' ');
    if (space != std::string_view::npos) {
      if (argc >= 3 && c.name.substr(0, space) == argv[1] && c.name.substr(space + 1) == argv[2])
        return c.run(argc - 2, argv + 2);
    } else if (c.name == argv[1]) {
      return c.run(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "weftctl: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
