#pragma once
// The canonical text form of NodeTables: what `weftctl compile` prints, what
// the golden tests compare and what `weftctl diff` diffs.
//
// The tables become sections ("node", "network blue", "port web-1", ...),
// each a list of rows; a row is one table entry, a few space-free cells. The
// canonical line of an entry is its cells joined by single spaces, so an
// entry's line does not depend on its neighbours and a diff of two versions
// is exactly the entries added and removed. render_text() only adds layout:
// section headings and columns aligned over runs of rows of the same kind.
//
//   network blue
//     vni     5001  mtu 1450  router-mac 0a:00:00:00:13:89
//     l2      02:5a:0a:01:01:0a  web-1  local
//     l2      02:5a:0a:01:01:0b  web-2  vtep 172.31.0.2
//
// Pure functions; thread-safe.

#include <string>
#include <vector>

#include "common/proto/tables.pb.h"

namespace weft::policy {

struct TextRow {
  std::vector<std::string> cells;  // cells[0] names the kind of entry
  std::string line() const;        // cells joined by single spaces
};

struct TextSection {
  std::string title;
  std::vector<TextRow> rows;
};

// Sections in a fixed order: node, networks, ports, security groups, QoS
// policies, load balancers, gateways (each sorted as in the tables).
std::vector<TextSection> tables_to_text(const proto::NodeTables& tables);

// Headings and aligned rows, indented by `indent` spaces; a blank line
// between sections.
std::string render_text(const std::vector<TextSection>& sections, int indent = 2);

// Aligns `rows` in columns: over each run of rows whose first cell is the
// same, every cell but the last is padded to the run's widest. Each row is
// prefixed by `prefix`.
std::string render_rows(const std::vector<TextRow>& rows, const std::string& prefix);

}  // namespace weft::policy
