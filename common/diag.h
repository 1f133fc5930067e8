#pragma once
// Diagnostics for untrusted control-plane input (policy YAML, node config,
// API bodies). The control plane never throws past its API: a loader collects
// every problem it finds, each with the position of the offending YAML node,
// and the caller prints them as `FILE:LINE:COLUMN: error: MESSAGE`.
//
// Thread-compatible: one Diagnostics per load.

#include <string>
#include <string_view>
#include <vector>

namespace weft {

// 1-based line and column; 0 means "no position" (e.g. an I/O error).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  SourcePos pos;
  std::string message;

  // `file:line:column: error: message` (position parts omitted when unknown).
  std::string format() const;
};

class Diagnostics {
 public:
  void error(SourcePos pos, std::string message);
  void error(std::string_view file, std::string message);  // no line/column

  bool ok() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }

  // Sorted by file, line, column; stable for equal positions.
  void sort();
  // Every diagnostic, one formatted line each.
  std::string format() const;
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace weft
