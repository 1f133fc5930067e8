// Golden compiled output of every example in policies/examples/: each node's
// tables in the text form of `weftctl compile`, one file per example in
// tests/policy/golden/. Also checks that every example validates clean.
//
// After an intended change of the compiler or an example, regenerate with
//   WEFT_UPDATE_GOLDEN=1 build/tests/unit/unit_policy --gtest_filter='Golden*'
// and review the diff of tests/policy/golden/ like code.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/compile/compile.h"
#include "control/compile/tables_text.h"
#include "control/model/loader.h"

namespace weft::policy {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = WEFT_SOURCE_ROOT;

std::vector<std::string> examples() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kRoot / "policies" / "examples"))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

std::string compiled_text(const Model& m) {
  std::string out;
  for (const auto& [node, tables] : compile_all(m)) {
    if (!out.empty()) out += "\n";
    out += render_text(tables_to_text(tables));
  }
  return out;
}

class Golden : public testing::TestWithParam<std::string> {};

TEST_P(Golden, ExampleValidatesAndCompilesToItsGoldenText) {
  fs::path example = kRoot / "policies" / "examples" / GetParam();
  Diagnostics diags;
  auto model = load_policy({example.string()}, diags);
  ASSERT_TRUE(model) << diags.format();
  EXPECT_TRUE(diags.ok());
  std::string got = compiled_text(*model);

  fs::path golden = kRoot / "tests" / "policy" / "golden" / (example.stem().string() + ".txt");
  if (std::getenv("WEFT_UPDATE_GOLDEN")) {
    std::ofstream(golden) << got;
    GTEST_SKIP() << "wrote " << golden;
  }
  std::ifstream in(golden);
  ASSERT_TRUE(in) << golden << " is missing; run with WEFT_UPDATE_GOLDEN=1";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "compiled " << example << " differs from " << golden;
}

INSTANTIATE_TEST_SUITE_P(Examples, Golden, testing::ValuesIn(examples()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem();
                           for (char& c : name)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace weft::policy
