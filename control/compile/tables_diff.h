#pragma once
// Differences between two compiled versions of a policy, per node, as the
// entries (canonical text lines, tables_text.h) added and removed. Entries
// are compared as multisets per section, so a diff is exact and as small as
// the change: moving an entry within its section is no difference.
//
//   auto d = diff_tables(compile_all(old_model), compile_all(new_model));
//   if (!d.empty()) std::fputs(render_diff(d).c_str(), stdout);
//
// Pure functions; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "control/compile/tables_text.h"
#include "common/proto/tables.pb.h"

namespace weft::policy {

struct SectionDiff {
  std::string title;
  std::vector<TextRow> removed;  // sorted by line
  std::vector<TextRow> added;    // sorted by line
};

struct NodeDiff {
  std::string node;
  std::vector<SectionDiff> sections;  // in table order (new version first)
};

struct TablesDiff {
  std::vector<NodeDiff> nodes;  // by node name; only nodes that differ
  bool empty() const { return nodes.empty(); }
  size_t added() const;
  size_t removed() const;
};

TablesDiff diff_tables(const std::map<std::string, proto::NodeTables>& before,
                       const std::map<std::string, proto::NodeTables>& after);

// "node NAME" headings, then per section its title and "- " / "+ " rows,
// aligned like render_text().
std::string render_diff(const TablesDiff& diff);

}  // namespace weft::policy
