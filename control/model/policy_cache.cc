#include "control/model/policy_cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/yaml_doc.h"
#include "control/model/loader.h"
#include "control/model/validate.h"

namespace weft::policy {
namespace {

// Appends the entities of one kind, retagged with the file's merged index.
template <class T>
void append(std::vector<T>& into, const std::vector<T>& from, uint32_t file) {
  size_t first = into.size();
  into.insert(into.end(), from.begin(), from.end());
  for (size_t i = first; i < into.size(); ++i) into[i].at.file = file;
}

}  // namespace

const PolicyCache::Entry* PolicyCache::fragment(const std::string& name, const std::string& text,
                                                Diagnostics& diags) {
  auto it = files_.find(name);
  if (it != files_.end() && it->second.text == text) return &it->second;
  ++parsed_last_;
  // A file with errors is not cached: the next load reports them again.
  Entry entry{text, {}};
  auto doc = load_yaml_text(text, name, diags);
  if (!doc || !read_policy_document(*doc, name, entry.fragment, diags)) {
    if (it != files_.end()) files_.erase(it);
    return nullptr;
  }
  return &(files_.insert_or_assign(name, std::move(entry)).first->second);
}

std::optional<Model> PolicyCache::load_texts(
    const std::vector<std::pair<std::string, std::string>>& files, Diagnostics& diags) {
  parsed_last_ = 0;
  Model merged;
  bool ok = true;
  for (const auto& [name, text] : files) {
    const uint32_t index = static_cast<uint32_t>(merged.files.size());
    merged.files.push_back(name);
    const Entry* e = fragment(name, text, diags);
    if (!e) {
      ok = false;
      continue;
    }
    const Model& f = e->fragment;
    append(merged.nodes, f.nodes, index);
    append(merged.networks, f.networks, index);
    append(merged.ports, f.ports, index);
    append(merged.security_groups, f.security_groups, index);
    append(merged.qos_policies, f.qos_policies, index);
    append(merged.load_balancers, f.load_balancers, index);
    append(merged.gateways, f.gateways, index);
  }
  ok = validate(merged, diags) && ok;
  diags.sort();
  if (!ok) return std::nullopt;
  return merged;
}

std::optional<Model> PolicyCache::load(const std::vector<std::string>& paths_or_dirs,
                                       Diagnostics& diags) {
  auto names = policy_files(paths_or_dirs, diags);
  if (!names) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& name : *names) {
    // At most one byte over the size cap: load_yaml_text() then refuses the
    // file, and a huge one never sits in memory whole.
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(name, ec);
    std::ifstream in(name, std::ios::binary);
    std::string text(std::min<uintmax_t>(ec ? 0 : size, YamlLimits{}.max_bytes + 1), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
      diags.error(name, "read error");
      return std::nullopt;
    }
    text.resize(static_cast<size_t>(in.gcount()));
    files.emplace_back(name, std::move(text));
  }
  // Prune files that are gone, so the cache does not grow without bound.
  for (auto it = files_.begin(); it != files_.end();) {
    bool listed = false;
    for (const auto& f : files) listed |= f.first == it->first;
    it = listed ? std::next(it) : files_.erase(it);
  }
  return load_texts(files, diags);
}

}  // namespace weft::policy
