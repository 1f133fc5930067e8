#include "control/weftctl/policy_cli.h"

#include <algorithm>
#include <cstdio>

#include "common/diag.h"
#include "control/model/loader.h"

namespace weft::cli {

const std::string* ParsedArgs::value(std::string_view name) const {
  for (const auto& [n, v] : values)
    if (n == name) return &v;
  return nullptr;
}

bool ParsedArgs::flag(std::string_view name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::optional<ParsedArgs> parse_args(int argc, char** argv, const char* command,
                                     std::initializer_list<std::string_view> value_options,
                                     std::initializer_list<std::string_view> flag_options) {
  ParsedArgs out;
  auto in = [](std::initializer_list<std::string_view> list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      // --name=value or --name value
      size_t eq = arg.find('=');
      std::string_view name = arg.substr(0, eq);
      if (in(value_options, name)) {
        if (eq != std::string_view::npos) {
          out.values.emplace_back(name, arg.substr(eq + 1));
        } else if (i + 1 < argc) {
          out.values.emplace_back(name, argv[++i]);
        } else {
          std::fprintf(stderr, "weftctl %s: %s needs a value\n", command, argv[i]);
          return std::nullopt;
        }
      } else if (in(flag_options, arg)) {
        out.flags.emplace_back(arg);
      } else {
        std::fprintf(stderr, "weftctl %s: unknown option '%s'\n", command, argv[i]);
        return std::nullopt;
      }
    } else {
      out.positional.emplace_back(arg);
    }
  }
  return out;
}

int load_policy_for_cli(const std::vector<std::string>& paths,
                        std::optional<policy::Model>& model) {
  Diagnostics diags;
  auto files = policy::policy_files(paths, diags);
  if (!files) {
    std::fputs(diags.format().c_str(), stderr);
    return kExitUsage;
  }
  model = policy::load_policy(*files, diags);
  if (!model) {
    std::fputs(diags.format().c_str(), stderr);
    std::fprintf(stderr, "%zu error%s\n", diags.size(), diags.size() == 1 ? "" : "s");
    return kExitNegative;
  }
  return kExitOk;
}

}  // namespace weft::cli
