#include "control/compile/compile.h"

#include "control/compile/node_compiler.h"

namespace weft::policy {

proto::NodeTables compile_node(const Model& m, std::string_view node) {
  auto it = m.index.nodes.find(std::string(node));
  if (it == m.index.nodes.end()) {
    proto::NodeTables t;
    t.set_node(std::string(node));
    return t;
  }
  return build_node_tables(m, it->second);
}

proto::NodeSources compile_sources(const Model& m, std::string_view node) {
  auto it = m.index.nodes.find(std::string(node));
  if (it == m.index.nodes.end()) return {};
  return build_node_sources(m, it->second);
}

std::map<std::string, proto::NodeTables> compile_all(const Model& m) {
  std::map<std::string, proto::NodeTables> out;
  for (uint32_t n = 0; n < m.nodes.size(); ++n)
    out.emplace(m.nodes[n].name, build_node_tables(m, n));
  return out;
}

}  // namespace weft::policy
