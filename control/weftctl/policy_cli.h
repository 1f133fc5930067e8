#pragma once
// What weftctl's policy commands (validate, compile, diff) share: reading
// their arguments and loading a policy with its errors on stderr.
//
// Single-threaded CLI helpers.

#include <optional>
#include <string>
#include <vector>

#include "control/model/model.h"

namespace weft::cli {

// Exit codes of every policy command (commands.h).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNegative = 1;  // invalid policy, or tables that differ
inline constexpr int kExitUsage = 2;     // usage or I/O error

// Options a command accepts: names with a value ("--node") and flags
// ("--json"). Everything else not starting with '-' is a positional argument.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::string> flags;
  bool help = false;

  const std::string* value(std::string_view name) const;
  bool flag(std::string_view name) const;
};

// Parses argv[1..argc) (argv[0] is the command's name). On a bad option,
// prints why and returns nullopt.
std::optional<ParsedArgs> parse_args(int argc, char** argv, const char* command,
                                     std::initializer_list<std::string_view> value_options,
                                     std::initializer_list<std::string_view> flag_options);

// Loads and validates the policy `paths` name, printing every error to
// stderr. Returns kExitOk with `model` set, kExitNegative for an invalid
// policy, or kExitUsage for an I/O error.
int load_policy_for_cli(const std::vector<std::string>& paths, std::optional<policy::Model>& model);

}  // namespace weft::cli
