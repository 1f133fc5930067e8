#include "common/yaml_doc.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace weft {
namespace {

struct LimitExceeded {
  YAML::Mark mark;
  std::string message;
};

// Walks the event stream and measures the document as it would be after
// alias expansion, throwing LimitExceeded as soon as a cap is crossed.
class MeasuringHandler : public YAML::EventHandler {
 public:
  explicit MeasuringHandler(const YamlLimits& limits) : limits_(limits) { frames_.push_back({}); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_size_.find(anchor);
    add(mark, it == anchor_size_.end() ? 1 : it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor = 0;
    size_t nodes = 0;
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor) anchor_size_[anchor] = 1;
    add(mark, 1);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (static_cast<int>(frames_.size()) > limits_.max_depth)
      throw LimitExceeded{mark, "document nested deeper than " +
                                    std::to_string(limits_.max_depth) + " levels"};
    frames_.push_back({anchor, 0});
    add(mark, 1);
  }
  void close() {
    Frame done = frames_.back();
    frames_.pop_back();
    if (done.anchor) anchor_size_[done.anchor] = done.nodes;
    frames_.back().nodes += done.nodes;
  }
  void add(const YAML::Mark& mark, size_t n) {
    frames_.back().nodes += n;
    total_ += n;
    if (total_ > limits_.max_expanded_nodes)
      throw LimitExceeded{mark, "document expands to more than " +
                                    std::to_string(limits_.max_expanded_nodes) +
                                    " nodes (alias expansion)"};
  }

  const YamlLimits& limits_;
  std::vector<Frame> frames_;
  std::unordered_map<YAML::anchor_t, size_t> anchor_size_;
  size_t total_ = 0;
};

SourcePos mark_pos(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<YAML::Node> load_yaml_text(std::string_view text, const std::string& file,
                                         Diagnostics& diags, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    diags.error(file, "file is " + std::to_string(text.size()) + " bytes; the limit is " +
                          std::to_string(limits.max_bytes));
    return std::nullopt;
  }
  try {
    // Pass 1: measure with the event parser; no tree is built.
    {
      std::istringstream in{std::string(text)};
      YAML::Parser parser(in);
      MeasuringHandler handler(limits);
      int documents = 0;
      while (parser.HandleNextDocument(handler)) {
        if (++documents > 1) {
          diags.error(file, "more than one YAML document in one file");
          return std::nullopt;
        }
      }
    }
    // Pass 2: the tree, now known to be bounded.
    YAML::Node root = YAML::Load(std::string(text));
    return root;
  } catch (const LimitExceeded& e) {
    diags.error(mark_pos(e.mark, file), e.message);
  } catch (const YAML::DeepRecursion& e) {
    diags.error(mark_pos(e.mark, file), "document nested too deeply");
  } catch (const YAML::Exception& e) {
    diags.error(mark_pos(e.mark, file), e.msg);
  }
  return std::nullopt;
}

std::optional<YAML::Node> load_yaml_file(const std::string& path, Diagnostics& diags,
                                         const YamlLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error(path, "cannot open file");
    return std::nullopt;
  }
  // Read at most one byte over the cap so a huge file costs bounded memory.
  std::string text(limits.max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) {
    diags.error(path, "read error");
    return std::nullopt;
  }
  if (text.size() > limits.max_bytes) {
    diags.error(path, "file is larger than the limit of " + std::to_string(limits.max_bytes) +
                          " bytes");
    return std::nullopt;
  }
  return load_yaml_text(text, path, diags, limits);
}

SourcePos pos_of(const YAML::Node& node, const std::string& file) {
  return mark_pos(node.Mark(), file);
}

std::string did_you_mean(std::string_view word, std::initializer_list<std::string_view> known) {
  return did_you_mean(word, std::span<const std::string_view>(known.begin(), known.size()));
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> known) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (auto k : known) {
    size_t d = edit_distance(word, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

bool check_keys(const YAML::Node& map, const std::string& file, std::string_view what,
                std::initializer_list<std::string_view> allowed,
                std::initializer_list<std::string_view> required, Diagnostics& diags) {
  if (!map.IsMap()) {
    diags.error(pos_of(map, file), std::string(what) + " must be a mapping");
    return false;
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      diags.error(pos_of(it->first, file), "keys of " + std::string(what) + " must be scalars");
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = "unknown key '" + key + "' in " + std::string(what);
    std::string hint = did_you_mean(key, allowed);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    diags.error(pos_of(it->first, file), msg);
  }
  for (auto key : required) {
    if (!map[std::string(key)])
      diags.error(pos_of(map, file),
                  "missing key '" + std::string(key) + "' in " + std::string(what));
  }
  return true;
}

}  // namespace weft
