// weftctl compile POLICY... --node NAME [--json]
//
// The tables the policy compiles to for one node: the canonical text form
// (sections, aligned columns, sorted), or protobuf's JSON mapping of
// NodeTables with --json. Exit 0; 1 for an invalid policy; 2 for a usage or
// I/O error, including a node the policy does not name.

#include <cstdio>
#include <string>

#include "common/yaml_doc.h"
#include "control/compile/compile.h"
#include "control/compile/tables_codec.h"
#include "control/compile/tables_text.h"
#include "control/weftctl/commands.h"
#include "control/weftctl/policy_cli.h"

namespace weft::cli {
namespace {

constexpr const char* kCompileUsage = "usage: weftctl compile POLICY... --node NAME [--json]\n";

}  // namespace

int cmd_compile(int argc, char** argv) {
  auto args = parse_args(argc, argv, "compile", {"--node"}, {"--json"});
  if (args && args->help) {
    std::fputs(kCompileUsage, stdout);
    return kExitOk;
  }
  if (!args || args->positional.empty() || !args->value("--node")) {
    std::fputs(kCompileUsage, stderr);
    return kExitUsage;
  }
  std::optional<policy::Model> model;
  if (int rc = load_policy_for_cli(args->positional, model); rc != kExitOk) return rc;

  const std::string& node = *args->value("--node");
  if (!model->index.nodes.count(node)) {
    std::vector<std::string_view> names;
    for (const auto& n : model->nodes) names.push_back(n.name);
    std::string hint = did_you_mean(node, std::span<const std::string_view>(names));
    std::fprintf(stderr, "weftctl compile: the policy has no node named '%s'%s%s%s\n", node.c_str(),
                 hint.empty() ? "" : "; did you mean '", hint.c_str(), hint.empty() ? "" : "'?");
    return kExitUsage;
  }
  proto::NodeTables tables = policy::compile_node(*model, node);
  std::string out = args->flag("--json") ? policy::tables_to_json(tables)
                                         : policy::render_text(policy::tables_to_text(tables));
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace weft::cli
