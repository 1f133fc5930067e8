// Every error class of the policy language, with its position.
//
// Most cases are fixtures in tests/policy/bad/: a file (or a directory of
// files) holding broken policies, ending with the errors it must produce:
//
//   # expect: 11:28: no network named 'bleu'; did you mean 'blue'?
//
// line:column, then a prefix of the message. The loader must report exactly
// these, in this order (sorted by file, line, column): one missing is a bug,
// and so is one more (a cascade). Hostile inputs are generated here.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "control/model/loader.h"

namespace weft::policy {
namespace {

namespace fs = std::filesystem;

const fs::path kBad = fs::path(WEFT_SOURCE_ROOT) / "tests" / "policy" / "bad";

struct Expected {
  std::string file;
  int line, column;
  std::string message_prefix;
};

std::vector<Expected> expectations(const fs::path& fixture) {
  std::vector<fs::path> files;
  if (fs::is_directory(fixture)) {
    for (const auto& e : fs::directory_iterator(fixture)) files.push_back(e.path());
  } else {
    files.push_back(fixture);
  }
  std::sort(files.begin(), files.end());
  static const std::regex kExpect(R"(^# expect: (\d+):(\d+): (.*)$)");
  std::vector<Expected> out;
  for (const fs::path& f : files) {
    std::ifstream in(f);
    std::smatch m;
    for (std::string line; std::getline(in, line);)
      if (std::regex_match(line, m, kExpect))
        out.push_back({f.string(), std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

std::vector<std::string> fixtures() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kBad)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class BadPolicy : public testing::TestWithParam<std::string> {};

TEST_P(BadPolicy, ReportsExactlyTheExpectedErrors) {
  fs::path fixture = kBad / GetParam();
  std::vector<Expected> want = expectations(fixture);
  ASSERT_FALSE(want.empty()) << fixture << " has no '# expect:' line";

  Diagnostics diags;
  EXPECT_FALSE(load_policy({fixture.string()}, diags));
  std::string all = diags.format();
  ASSERT_EQ(diags.size(), want.size()) << all;
  for (size_t i = 0; i < want.size(); ++i) {
    const Diagnostic& got = diags.items()[i];
    SCOPED_TRACE(got.format());
    EXPECT_EQ(got.pos.file, want[i].file);
    EXPECT_EQ(got.pos.line, want[i].line);
    EXPECT_EQ(got.pos.column, want[i].column);
    EXPECT_EQ(got.message.substr(0, want[i].message_prefix.size()), want[i].message_prefix);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BadPolicy, testing::ValuesIn(fixtures()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// ---- loading, merging, I/O ----

TEST(PolicyLoad, FormatIsFileLineColumnErrorMessage) {
  Diagnostics d;
  EXPECT_FALSE(
      load_policy_text("version: 1\nnodes:\n  - {name: a, underlay_ip: 1.2.3}\n", "p.yaml", d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.items()[0].format(),
            "p.yaml:3:28: error: invalid underlay_ip '1.2.3': expected an IPv4 address (a.b.c.d)");
}

TEST(PolicyLoad, EmptyAndNonMappingDocuments) {
  Diagnostics d;
  EXPECT_FALSE(load_policy_text("", "empty.yaml", d));
  EXPECT_FALSE(load_policy_text("- version: 1\n", "list.yaml", d));
  ASSERT_EQ(d.size(), 2u) << d.format();
  EXPECT_EQ(d.items()[0].format(),
            "empty.yaml:1:1: error: empty policy file (expected at least 'version: 1')");
  EXPECT_EQ(d.items()[1].format(), "list.yaml:1:1: error: policy must be a mapping, not a list");
}

TEST(PolicyLoad, MissingVersionIsAnError) {
  Diagnostics d;
  EXPECT_FALSE(load_policy_text("nodes: []\n", "p.yaml", d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.items()[0].format(), "p.yaml:1:1: error: missing key 'version' in policy");
}

TEST(PolicyLoad, DirectoryMergesItsYamlFilesInOrder) {
  fs::path dir = fs::temp_directory_path() / ("weft-policy-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "b.yaml") << "version: 1\nnodes: [{name: b, underlay_ip: 10.0.0.2}]\n";
  std::ofstream(dir / "a.yaml") << "version: 1\nnodes: [{name: a, underlay_ip: 10.0.0.1}]\n";
  std::ofstream(dir / "notes.txt") << "not: [policy\n";  // ignored: not *.yaml
  Diagnostics d;
  auto m = load_policy({dir.string()}, d);
  fs::remove_all(dir);
  ASSERT_TRUE(m) << d.format();
  ASSERT_EQ(m->nodes.size(), 2u);
  EXPECT_EQ(m->nodes[0].name, "a");
  EXPECT_EQ(m->nodes[1].name, "b");
  EXPECT_EQ(m->files.size(), 2u);
}

TEST(PolicyLoad, IoErrorsAreReportedByPolicyFiles) {
  fs::path dir = fs::temp_directory_path() / ("weft-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Diagnostics d;
  EXPECT_FALSE(policy_files({"/nonexistent/policy.yaml", dir.string()}, d));
  fs::remove_all(dir);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.items()[0].message, "no such file or directory");
  EXPECT_EQ(d.items()[1].message, "no *.yaml file in this directory");
}

TEST(PolicyLoad, ErrorsOfSeveralFilesAreAllReportedSorted) {
  fs::path dir = fs::temp_directory_path() / ("weft-multi-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.yaml")
      << "version: 1\nnodes: [{name: a, underlay_ip: 10.0.0.1}]\n"
         "ports: [{name: p, network: n, subnet: s, node: a, ip: 1.1.1.1}]\n";
  std::ofstream(dir / "b.yaml") << "version: 1\nnodes: [{name: b, underlay_ip: 10.0.0.1, x: 1}]\n";
  Diagnostics d;
  EXPECT_FALSE(load_policy({dir.string()}, d));
  fs::remove_all(dir);
  ASSERT_EQ(d.size(), 3u) << d.format();
  EXPECT_EQ(fs::path(d.items()[0].pos.file).filename(), "a.yaml");
  EXPECT_EQ(d.items()[0].message, "no network named 'n'");
  EXPECT_EQ(fs::path(d.items()[1].pos.file).filename(), "b.yaml");
  EXPECT_EQ(d.items()[1].pos.line, 2);
  EXPECT_EQ(d.items()[1].pos.column, 32);  // underlay_ip: same as node a's
  EXPECT_EQ(d.items()[2].message, "unknown key 'x' in node");
}

// ---- hostile input: refused, in bounded time, through the real loader ----

template <class Fn>
double seconds(Fn fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(PolicyHostile, HugeFileIsRefusedWithoutReadingIt) {
  fs::path big = fs::temp_directory_path() / ("weft-huge-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(big);
    out << "version: 1\nnodes:\n";
    // 17 MiB, sparse on disk: only the cap's worth is ever read.
    out.seekp(17 << 20);
    out << "\n";
  }
  Diagnostics d;
  double s = seconds([&] { EXPECT_FALSE(load_policy({big.string()}, d)); });
  fs::remove(big);
  ASSERT_EQ(d.size(), 1u) << d.format();
  EXPECT_NE(d.items()[0].message.find("larger than the limit"), std::string::npos);
  EXPECT_LT(s, 5.0);
}

TEST(PolicyHostile, AliasBombIsRefused) {
  // 10 levels of 10 aliases each: 10^10 nodes once expanded.
  std::string text =
      "version: 1\nx0: &a0 [name, name, name, name, name, name, name, name, name, name]\n";
  for (int i = 1; i <= 10; ++i) {
    std::string prev = std::to_string(i - 1), level = std::to_string(i);
    text.append("x").append(level).append(": &a").append(level).append(" [");
    for (int j = 0; j < 10; ++j) text.append(j ? ", *a" : "*a").append(prev);
    text.append("]\n");
  }
  text += "nodes: *a10\n";
  Diagnostics d;
  double s = seconds([&] { EXPECT_FALSE(load_policy_text(text, "bomb.yaml", d)); });
  ASSERT_EQ(d.size(), 1u) << d.format();
  EXPECT_EQ(d.items()[0].pos.file, "bomb.yaml");
  EXPECT_GT(d.items()[0].pos.line, 0);
  EXPECT_NE(d.items()[0].message.find("alias"), std::string::npos);
  EXPECT_LT(s, 5.0);
}

TEST(PolicyHostile, DeepNestingIsRefused) {
  std::string text = "version: 1\nnodes: " + std::string(100000, '[') + std::string(100000, ']');
  Diagnostics d;
  double s = seconds([&] { EXPECT_FALSE(load_policy_text(text, "deep.yaml", d)); });
  ASSERT_EQ(d.size(), 1u) << d.format();
  EXPECT_EQ(d.items()[0].pos.line, 2);
  EXPECT_NE(d.items()[0].message.find("nested"), std::string::npos);
  EXPECT_LT(s, 5.0);
}

TEST(PolicyHostile, ManyErrorsAreAllReportedQuickly) {
  // 20,000 ports each naming a missing node and network: every error is
  // reported, and did-you-mean stays cheap.
  std::string text = "version: 1\nports:\n";
  for (int i = 0; i < 20000; ++i)
    text += "  - {name: p" + std::to_string(i) + ", network: n" + std::to_string(i) +
            ", subnet: s, node: x" + std::to_string(i) + ", ip: 10.0.0.1}\n";
  Diagnostics d;
  double s = seconds([&] { EXPECT_FALSE(load_policy_text(text, "many.yaml", d)); });
  EXPECT_EQ(d.size(), 40000u);
  EXPECT_LT(s, 20.0);
}

}  // namespace
}  // namespace weft::policy
