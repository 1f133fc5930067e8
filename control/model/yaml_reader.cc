#include "control/model/yaml_reader.h"

#include <cassert>

#include "common/str_cat.h"
#include "common/yaml_doc.h"

namespace weft::policy {
namespace {

// Echoes of untrusted scalars in messages stay short.
std::string quoted(const std::string& text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return "'" + text + "'";
  return "'" + text.substr(0, kMax) + "...'";
}

}  // namespace

Loc YamlReader::loc(const YAML::Node& node) const {
  SourcePos p = pos_of(node, file_);
  return {static_cast<uint32_t>(p.line), static_cast<uint32_t>(p.column)};
}

void YamlReader::error(const YAML::Node& at, std::string message) const {
  diags_.error(pos_of(at, file_), std::move(message));
}

void YamlReader::error(Loc at, std::string message) const {
  diags_.error(SourcePos{file_, static_cast<int>(at.line), static_cast<int>(at.column)},
               std::move(message));
}

std::string YamlReader::describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    default:
      return "empty";
  }
}

void YamlReader::wrong_type(const YAML::Node& node, std::string_view what,
                            std::string_view expected) const {
  error(node, str_cat({"'", what, "' must be ", expected, ", not ", describe(node)}));
}

void YamlReader::malformed(const YAML::Node& node, std::string_view what, std::string_view expected,
                           const std::string& why) const {
  error(node, str_cat({"invalid ", what, " ", quoted(node.Scalar()), ": ",
                       why.empty() ? "expected " : "", why.empty() ? expected : why}));
}

Fields::Fields(const YamlReader& reader, const YAML::Node& node, std::string_view what,
               std::span<const Key> keys)
    : reader_(reader), keys_(keys), self_(reader.loc(node)) {
  assert(keys.size() <= kMaxKeys);
  if (!node.IsMap()) {
    reader_.error(node, str_cat({what, " must be a mapping, not ", YamlReader::describe(node)}));
    return;
  }
  is_map_ = true;
  std::array<std::string_view, kMaxKeys> names;
  for (size_t i = 0; i < keys.size(); ++i) names[i] = keys[i].name;
  std::span<const std::string_view> known(names.data(), keys.size());

  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: `it->` yields a temporary proxy that a reference would outlive.
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      reader_.error(key,
                    str_cat({"keys of ", what, " must be names, not ", YamlReader::describe(key)}));
      continue;
    }
    const std::string& name = key.Scalar();
    size_t i = 0;
    while (i < keys.size() && keys[i].name != name) ++i;
    if (i == keys.size()) {
      std::string hint = did_you_mean(name, known);
      reader_.error(
          key, str_cat({"unknown key '", name, "' in ", what,
                        hint.empty() ? "" : "; did you mean '", hint, hint.empty() ? "" : "'?"}));
    } else if (values_[i]) {
      Loc first = reader_.loc(*values_[i]);
      reader_.error(key, str_cat({"duplicate key '", name, "' in ", what, " (first given at line ",
                                  std::to_string(first.line), ")"}));
    } else {
      values_[i] = it->second;
    }
  }
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i].required && !values_[i])
      reader_.error(self_, str_cat({"missing key '", keys[i].name, "' in ", what}));
}

const YAML::Node* Fields::find(std::string_view key) const {
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i].name == key) return values_[i] ? &*values_[i] : nullptr;
  assert(false && "Fields::find: key not declared");
  return nullptr;
}

}  // namespace weft::policy
