#pragma once
// Strict, positioned reading of one YAML file of the policy into the model.
//
// `Fields` opens one mapping against the keys it may hold and reports, in one
// go, a value that is not a mapping, unknown keys (with a did-you-mean),
// duplicate keys and missing required keys. Its values are then read by key
// with `read` / `read_list`, each through a `ValueKind` that knows how the
// scalar must look; whatever is wrong is reported at the offending YAML node
// and reading carries on, so one pass finds every problem of the file.
//
//   constexpr Key kNodeKeys[] = {{"name", kRequired}, {"underlay_ip", kRequired}};
//   Fields f(reader, yaml, "node", kNodeKeys);
//   f.read("name", kName, node.name, &node.at.name);
//
// yaml-cpp's exceptions never leave this module's callers: the accessors used
// here do not throw on a tree that load_yaml_text() accepted. Thread-compatible.

#include <yaml-cpp/yaml.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"
#include "common/str_cat.h"
#include "control/model/model.h"

namespace weft::policy {

// How a scalar of type T is written: `expected` completes "expected ..." in
// messages; `parse` may explain a rejection more precisely in `why`.
template <class T>
struct ValueKind {
  std::string_view expected;
  bool (*parse)(std::string_view text, T& out, std::string& why);
};

inline constexpr bool kRequired = true;

struct Key {
  std::string_view name;
  bool required = false;
};

class YamlReader {
 public:
  YamlReader(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  Loc loc(const YAML::Node& node) const;
  void error(const YAML::Node& at, std::string message) const;
  void error(Loc at, std::string message) const;

  // Reads a scalar through `kind`; false (reported as `what`) when `node` is
  // not a scalar or does not parse.
  template <class T>
  bool scalar(const YAML::Node& node, std::string_view what, const ValueKind<T>& kind,
              T& out) const {
    if (!node.IsScalar()) {
      wrong_type(node, what, kind.expected);
      return false;
    }
    std::string why;
    if (kind.parse(node.Scalar(), out, why)) return true;
    malformed(node, what, kind.expected, why);
    return false;
  }

  // Reads a sequence of scalars through `kind`; a null value is an empty
  // list, and a lone scalar is a list of one when `scalar_ok`.
  template <class T, class List, class LocList>
  bool list(const YAML::Node& node, std::string_view what, const ValueKind<T>& kind, List& out,
            LocList* at, bool scalar_ok) const {
    if (node.IsNull()) return true;
    if (node.IsScalar() && scalar_ok) return append(node, what, kind, out, at);
    if (!node.IsSequence()) {
      error(node, str_cat({"'", what, "' must be a list, not ", describe(node), " (each item ",
                           kind.expected, ")"}));
      return false;
    }
    bool ok = true;
    for (const YAML::Node& item : node) ok &= append(item, what, kind, out, at);
    return ok;
  }

  // "a mapping", "a list", "empty", or the scalar itself, for messages.
  static std::string describe(const YAML::Node& node);

 private:
  template <class T, class List, class LocList>
  bool append(const YAML::Node& item, std::string_view what, const ValueKind<T>& kind, List& out,
              LocList* at) const {
    T value{};
    if (!scalar(item, what, kind, value)) return false;
    out.push_back(std::move(value));
    if (at) at->push_back(loc(item));
    return true;
  }
  void wrong_type(const YAML::Node& node, std::string_view what, std::string_view expected) const;
  void malformed(const YAML::Node& node, std::string_view what, std::string_view expected,
                 const std::string& why) const;

  const std::string& file_;
  Diagnostics& diags_;
};

// One mapping of the policy, opened strictly (see the file comment).
class Fields {
 public:
  static constexpr size_t kMaxKeys = 12;

  Fields(const YamlReader& reader, const YAML::Node& node, std::string_view what,
         std::span<const Key> keys);

  bool is_map() const { return is_map_; }
  Loc self() const { return self_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The value under `key`, or nullptr when absent.
  const YAML::Node* find(std::string_view key) const;

  // Position of the value under `key`; unknown when absent.
  Loc loc(std::string_view key) const {
    const YAML::Node* v = find(key);
    return v ? reader_.loc(*v) : Loc{};
  }

  // Reads the scalar under `key` when present; false when absent or wrong.
  // `at` receives the value's position only when it parsed (see Loc).
  template <class T>
  bool read(std::string_view key, const ValueKind<T>& kind, T& out, Loc* at = nullptr) const {
    const YAML::Node* v = find(key);
    if (!v || !reader_.scalar(*v, key, kind, out)) return false;
    if (at) *at = reader_.loc(*v);
    return true;
  }
  // Reads a list of scalars; `item_at` receives the position of each item
  // kept.
  template <class T, class List, class LocList = std::vector<Loc>>
  bool read_list(std::string_view key, const ValueKind<T>& kind, List& out,
                 LocList* item_at = nullptr) const {
    const YAML::Node* v = find(key);
    return v && reader_.list(*v, key, kind, out, item_at, false);
  }
  // The same, where a lone scalar is a list of one.
  template <class T, class List>
  bool read_scalar_or_list(std::string_view key, const ValueKind<T>& kind, List& out) const {
    const YAML::Node* v = find(key);
    return v && reader_.list(*v, key, kind, out, static_cast<std::vector<Loc>*>(nullptr), true);
  }

  // Calls fn(item) for every item of the list under `key` (absent or null:
  // none); a value that is not a list is reported.
  template <class Fn>
  void each(std::string_view key, Fn&& fn) const {
    const YAML::Node* v = find(key);
    if (!v || v->IsNull()) return;
    if (!v->IsSequence()) {
      reader_.error(*v, str_cat({"'", key, "' must be a list, not ", YamlReader::describe(*v)}));
      return;
    }
    for (const YAML::Node& item : *v) fn(item);
  }

 private:
  const YamlReader& reader_;
  std::span<const Key> keys_;
  std::array<std::optional<YAML::Node>, kMaxKeys> values_;
  Loc self_;
  bool is_map_ = false;
};

}  // namespace weft::policy
