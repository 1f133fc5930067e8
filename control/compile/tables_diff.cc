#include "control/compile/tables_diff.h"

#include <algorithm>
#include <unordered_map>

namespace weft::policy {
namespace {

using Lines = std::vector<std::pair<std::string, const TextRow*>>;  // (line, row)

Lines lines_of(const TextSection& s) {
  Lines out;
  out.reserve(s.rows.size());
  for (const TextRow& r : s.rows) out.emplace_back(r.line(), &r);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// The rows of `a` not matched in `b`, as multisets of lines.
std::vector<TextRow> minus(const Lines& a, const Lines& b) {
  std::vector<TextRow> out;
  size_t j = 0;
  for (const auto& [line, row] : a) {
    while (j < b.size() && b[j].first < line) ++j;
    if (j < b.size() && b[j].first == line)
      ++j;
    else
      out.push_back(*row);
  }
  return out;
}

NodeDiff diff_node(const std::string& name, const std::vector<TextSection>& before,
                   const std::vector<TextSection>& after) {
  NodeDiff out{name, {}};
  std::unordered_map<std::string, const TextSection*> old_by_title;
  for (const TextSection& s : before) old_by_title.emplace(s.title, &s);
  static const TextSection kEmpty;
  auto add = [&](const std::string& title, const TextSection& o, const TextSection& n) {
    Lines ol = lines_of(o), nl = lines_of(n);
    SectionDiff d{title, minus(ol, nl), minus(nl, ol)};
    if (!d.added.empty() || !d.removed.empty()) out.sections.push_back(std::move(d));
  };
  for (const TextSection& s : after) {
    auto it = old_by_title.find(s.title);
    add(s.title, it == old_by_title.end() ? kEmpty : *it->second, s);
    if (it != old_by_title.end()) old_by_title.erase(it);
  }
  for (const TextSection& s : before)
    if (old_by_title.count(s.title)) add(s.title, s, kEmpty);
  return out;
}

}  // namespace

size_t TablesDiff::added() const {
  size_t n = 0;
  for (const auto& node : nodes)
    for (const auto& s : node.sections) n += s.added.size();
  return n;
}

size_t TablesDiff::removed() const {
  size_t n = 0;
  for (const auto& node : nodes)
    for (const auto& s : node.sections) n += s.removed.size();
  return n;
}

TablesDiff diff_tables(const std::map<std::string, proto::NodeTables>& before,
                       const std::map<std::string, proto::NodeTables>& after) {
  TablesDiff out;
  std::vector<std::string> names;
  for (const auto& [name, t] : before) names.push_back(name);
  for (const auto& [name, t] : after) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& name : names) {
    auto o = before.find(name), n = after.find(name);
    std::vector<TextSection> os, ns;
    if (o != before.end()) os = tables_to_text(o->second);
    if (n != after.end()) ns = tables_to_text(n->second);
    NodeDiff d = diff_node(name, os, ns);
    if (!d.sections.empty()) out.nodes.push_back(std::move(d));
  }
  return out;
}

std::string render_diff(const TablesDiff& diff) {
  std::string out;
  for (const NodeDiff& node : diff.nodes) {
    out += "node " + node.node + "\n";
    for (const SectionDiff& s : node.sections) {
      out += "  " + s.title + "\n";
      out += render_rows(s.removed, "  - ");
      out += render_rows(s.added, "  + ");
    }
  }
  return out;
}

}  // namespace weft::policy
