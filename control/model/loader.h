#pragma once
// Loading a policy: YAML files -> a validated Model, or every error found.
//
//   Diagnostics diags;
//   auto model = weft::policy::load_policy({"policies/examples/web-app"}, diags);
//   if (!model) { std::fputs(diags.format().c_str(), stderr); ... }
//
// A path may be a file or a directory (its *.yaml files, in sorted order);
// the files are merged, and a name is unique within its kind across all of
// them. Both entry points parse AND validate; on any error they return nullopt
// with every problem in `diags`, sorted by position. Hostile text is refused
// by load_yaml_text()'s caps (size, nesting, alias expansion) before a tree
// is built. No exception escapes.
//
// The steps are public for callers that cache or time them (PolicyCache,
// perf/policy_bench): read_policy_document() adds one parsed file to a Model,
// validate() (validate.h) checks the whole and indexes it.
//
// Thread-compatible: no shared state; concurrent loads into distinct Models
// are fine.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"
#include "control/model/model.h"

namespace weft::policy {

std::optional<Model> load_policy(const std::vector<std::string>& paths_or_dirs, Diagnostics& diags);
std::optional<Model> load_policy_text(std::string_view yaml, const std::string& name,
                                      Diagnostics& diags);

// The files `paths_or_dirs` names, directories expanded; nullopt (with an
// error per problem) when a path does not exist, a directory holds no *.yaml
// file, or a file cannot be read: the I/O failures weftctl exits 2 on.
std::optional<std::vector<std::string>> policy_files(const std::vector<std::string>& paths_or_dirs,
                                                     Diagnostics& diags);

// Reads one parsed policy file, checking keys, types and value syntax, and
// appends its entities to `into` under a new entry of into.files. Returns
// false when the file had errors (they are in `diags`).
bool read_policy_document(const YAML::Node& doc, const std::string& file, Model& into,
                          Diagnostics& diags);

}  // namespace weft::policy
