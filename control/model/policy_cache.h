#pragma once
// Reloading a policy of many files when few of them changed.
//
// yaml-cpp parses about 3 MB/s, so parsing a large policy costs seconds
// while checking and compiling it costs milliseconds. PolicyCache keeps, per
// file, its text and the entities read from it; a file whose text did not
// change is not parsed again. The merged policy is validated as a whole on
// every load (validation is cheap and cross-file), so the result is exactly
// what load_policy() would return for the same files.
//
//   PolicyCache cache;
//   auto v1 = cache.load({"policy/"}, diags);   // parses every file
//   ...                                         // an operator edits one file
//   auto v2 = cache.load({"policy/"}, diags);   // parses that file only
//
// Thread-compatible: one cache per loader thread.

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/diag.h"
#include "control/model/model.h"

namespace weft::policy {

class PolicyCache {
 public:
  // Like load_policy(): files and directories, parsed and validated.
  std::optional<Model> load(const std::vector<std::string>& paths_or_dirs, Diagnostics& diags);
  // The same from (name, text) pairs already in memory, in merge order.
  std::optional<Model> load_texts(const std::vector<std::pair<std::string, std::string>>& files,
                                  Diagnostics& diags);

  // Files parsed (not taken from the cache) by the last load.
  size_t parsed_last() const { return parsed_last_; }

 private:
  struct Entry {
    std::string text;
    Model fragment;  // the file's entities, with Where::file == 0
  };
  const Entry* fragment(const std::string& name, const std::string& text, Diagnostics& diags);

  std::unordered_map<std::string, Entry> files_;
  size_t parsed_last_ = 0;
};

}  // namespace weft::policy
