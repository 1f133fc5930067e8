// Writes the snapshot builder fuzzer's seed corpus: the NodeTables that the
// real compiler makes of each example policy for each of its nodes,
// serialized as the controller sends them, one file per (policy, node).
//
//   make_tables_seeds OUT_DIR POLICY_FILE_OR_DIR...

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/diag.h"
#include "control/compile/compile.h"
#include "control/model/loader.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR POLICY_FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    weft::Diagnostics diags;
    auto model = weft::policy::load_policy({argv[i]}, diags);
    if (!model) {
      std::fprintf(stderr, "%s", diags.format().c_str());
      return 1;
    }
    const std::string stem = std::filesystem::path(argv[i]).filename().replace_extension().string();
    for (const weft::policy::Node& node : model->nodes) {
      std::string bytes;
      if (!weft::policy::compile_node(*model, node.name).SerializeToString(&bytes)) {
        std::fprintf(stderr, "%s: cannot serialize the tables of %s\n", argv[i], node.name.c_str());
        return 1;
      }
      const std::filesystem::path file = dir / (stem + "-" + node.name);
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) {
        std::fprintf(stderr, "%s: cannot write\n", file.c_str());
        return 1;
      }
    }
  }
  return 0;
}
