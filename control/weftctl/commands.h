#pragma once
// weftctl subcommands. Each lives in its own cmd_*.cc and is listed in the
// table in main.cc. A command gets argv starting at its own name and returns
// the process exit code: 0 success, 1 a negative answer (e.g. an invalid
// policy), 2 a usage or I/O error.

#include <string_view>

namespace weft::cli {

struct Command {
  std::string_view name;     // "validate", or "node stats" for a two-word command
  std::string_view synopsis; // one line for `weftctl --help`
  int (*run)(int argc, char** argv);
};

}  // namespace weft::cli
