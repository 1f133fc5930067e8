#pragma once
// Safe loading and strict reading of YAML from untrusted sources.
//
// `load_yaml` refuses hostile documents before a node tree is built: a size
// cap on the text, a nesting-depth cap, and a cap on the node count *after*
// alias expansion (so a "billion laughs" file is refused in bounded time and
// memory, although yaml-cpp itself would share the aliased subtree).
//
// `check_keys` makes mappings strict: an unknown key is an error with a
// "did you mean" when a known key is close; a missing required key is an
// error at the mapping's position.
//
// Thread-compatible; no global state.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/diag.h"

namespace weft {

struct YamlLimits {
  size_t max_bytes = 16u << 20;         // 16 MiB of text
  int max_depth = 32;                   // nested mappings/sequences
  size_t max_expanded_nodes = 4u << 20; // nodes after expanding every alias
};

// Loads one YAML document. On failure returns nullopt and adds a diagnostic
// (with line and column for syntax errors) under `file`.
std::optional<YAML::Node> load_yaml_text(std::string_view text, const std::string& file,
                                         Diagnostics& diags, const YamlLimits& limits = {});
std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diags,
                                         const YamlLimits& limits = {});

// Position of a node, 1-based, for diagnostics.
SourcePos pos_of(const YAML::Node& node, const std::string& file);

// Closest candidate by edit distance, or empty when none is close enough to
// be a plausible typo.
std::string did_you_mean(std::string_view word, std::initializer_list<std::string_view> known);
// The same over a list known only at run time (e.g. the names of a kind).
std::string did_you_mean(std::string_view word, std::span<const std::string_view> known);

// Checks that `map` is a mapping whose keys are all in `allowed` and that
// every key in `required` is present. Returns false (with diagnostics) when
// `map` is not a mapping; unknown/missing keys are reported but return true
// so the caller can keep reading the rest and report more errors.
bool check_keys(const YAML::Node& map, const std::string& file, std::string_view what,
                std::initializer_list<std::string_view> allowed,
                std::initializer_list<std::string_view> required, Diagnostics& diags);

}  // namespace weft
