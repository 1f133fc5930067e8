#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "control/store/state_store.h"
#include "tests/unit/ctl_test_support.h"

namespace weft::ctl {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(Store, FreshDirectoryHasVersionZero) {
  auto dir = test::make_temp_dir("weft-store") + "/state";  // created by open()
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.error();
  EXPECT_EQ((*store)->current().version, 0u);
  EXPECT_EQ((*store)->current().policy, "");
}

TEST(Store, CommitsSurviveReopenWithTheSameVersion) {
  auto dir = test::make_temp_dir("weft-store");
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.error();
    auto v1 = (*store)->commit("version: 1\n");
    ASSERT_TRUE(v1) << v1.error();
    EXPECT_EQ(*v1, 1u);
    auto v2 = (*store)->commit("version: 1\nnodes: []\n");
    ASSERT_TRUE(v2);
    EXPECT_EQ(*v2, 2u);
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.error();
  EXPECT_EQ((*store)->current().version, 2u);
  EXPECT_EQ((*store)->current().policy, "version: 1\nnodes: []\n");
  // The file is the policy behind one comment line, readable by an operator.
  auto text = slurp(dir + "/policy.yaml");
  EXPECT_TRUE(text.starts_with("# weft-controller desired state: version=2 bytes=21 sha256="));
  EXPECT_TRUE(text.ends_with("\nversion: 1\nnodes: []\n"));
  EXPECT_EQ(::access((dir + "/policy.yaml.tmp").c_str(), F_OK), -1) << "no temporary left";
}

TEST(Store, SecondControllerOnTheSameDirIsRefused) {
  auto dir = test::make_temp_dir("weft-store");
  auto first = StateStore::open(dir);
  ASSERT_TRUE(first);
  auto second = StateStore::open(dir);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("in use by another weft-controller"), std::string::npos);
  first->reset();
  EXPECT_TRUE(StateStore::open(dir)) << "the lock goes with the store";
}

TEST(Store, TruncatedOrEditedFileIsRefused) {
  auto dir = test::make_temp_dir("weft-store");
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->commit("version: 1\nnodes: []\n"));
  }
  const std::string path = dir + "/policy.yaml";
  const std::string good = slurp(path);

  spit(path, good.substr(0, good.size() - 3));
  auto t = StateStore::open(dir);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("truncated"), std::string::npos) << t.error();

  std::string edited = good;
  edited[edited.size() - 3] = 'X';
  spit(path, edited);
  auto e = StateStore::open(dir);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("SHA-256"), std::string::npos) << e.error();

  spit(path, "version: 1\n");
  EXPECT_FALSE(StateStore::open(dir));

  spit(path, good);
  EXPECT_TRUE(StateStore::open(dir));
}

TEST(Store, LeftoverTemporaryFromACrashIsIgnored) {
  auto dir = test::make_temp_dir("weft-store");
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE((*store)->commit("a: 1\n"));
  }
  spit(dir + "/policy.yaml.tmp", "half-written garbage");
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.error();
  EXPECT_EQ((*store)->current().policy, "a: 1\n");
  EXPECT_EQ(::access((dir + "/policy.yaml.tmp").c_str(), F_OK), -1);
}

TEST(Store, FailedCommitChangesNothing) {
  auto dir = test::make_temp_dir("weft-store");
  auto store = StateStore::open(dir);
  ASSERT_TRUE((*store)->commit("a: 1\n"));
  // A directory where the temporary file must go makes open(2) fail (root
  // ignores permission bits, so this is how a test provokes an I/O error).
  ASSERT_EQ(::mkdir((dir + "/policy.yaml.tmp").c_str(), 0700), 0);
  auto v = (*store)->commit("a: 2\n");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().find("policy.yaml.tmp"), std::string::npos) << v.error();
  EXPECT_EQ((*store)->current().version, 1u);
  EXPECT_EQ((*store)->current().policy, "a: 1\n");
  ::rmdir((dir + "/policy.yaml.tmp").c_str());
  store->reset();
  auto again = StateStore::open(dir);
  EXPECT_EQ((*again)->current().version, 1u);
  EXPECT_EQ((*again)->current().policy, "a: 1\n");
}

// fsync(2) that fails with EIO for directories or for files, on demand.
struct FailingFsync {
  std::atomic<bool> dirs{false};
  std::atomic<bool> files{false};
  StoreIo io() {
    return {.fsync = [this](int fd) {
      struct stat st;
      if (::fstat(fd, &st) == 0 && (S_ISDIR(st.st_mode) ? dirs.load() : files.load())) {
        errno = EIO;
        return -1;
      }
      return ::fsync(fd);
    }};
  }
};

// Commits version 1, then "a: 2" with `failing` set (cleared again after):
// that commit must fail and leave version 1 in place. Returns its error.
std::string second_commit_fails(StateStore& store, std::atomic<bool>& failing) {
  EXPECT_TRUE(store.commit("a: 1\n"));
  failing = true;
  auto v = store.commit("a: 2\n");
  failing = false;
  EXPECT_FALSE(v);
  EXPECT_EQ(store.current().version, 1u);
  EXPECT_EQ(store.current().policy, "a: 1\n");
  return v ? "" : v.error();
}

TEST(Store, FailedFileFsyncKeepsTheVersion) {
  FailingFsync fail;
  auto store = StateStore::open(test::make_temp_dir("weft-store"), fail.io());
  const std::string error = second_commit_fails(**store, fail.files);
  EXPECT_NE(error.find("fsync"), std::string::npos) << error;
  // Nothing is left broken: the next commit that succeeds is version 2.
  auto again = (*store)->commit("a: 2\n");
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, 2u);
}

TEST(Store, VersionDoesNotAdvanceWhenTheDirectoryFsyncFails) {
  auto dir = test::make_temp_dir("weft-store");
  FailingFsync fail;
  auto store = StateStore::open(dir, fail.io());
  // Version 2 may not survive a crash: nobody may be told of it.
  const std::string error = second_commit_fails(**store, fail.dirs);
  EXPECT_NE(error.find("restart the controller"), std::string::npos) << error;
  // The outcome on disk is unknown: every later commit fails, even once the
  // disk recovers, until a restart re-reads the file.
  EXPECT_FALSE((*store)->commit("a: 2\n"));
  EXPECT_FALSE((*store)->commit("a: 3\n"));
  EXPECT_EQ((*store)->current().version, 1u);
  store->reset();
  auto reopened = StateStore::open(dir);
  ASSERT_TRUE(reopened) << reopened.error();
  EXPECT_EQ((*reopened)->current().version, 2u) << "the renamed file is what a restart serves";
}

TEST(Store, EncodeDecodeRoundTripAndHeaderParsing) {
  DesiredState s{42, std::string("x: \"\\n\"\n\0bin", 12)};  // with a NUL inside
  auto d = decode_state(encode_state(s));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->version, 42u);
  EXPECT_EQ(d->policy, s.policy);
  EXPECT_FALSE(decode_state(""));
  EXPECT_FALSE(decode_state("# weft-controller desired state: version=x bytes=0 sha256=\n"));
  EXPECT_FALSE(decode_state("# weft-controller desired state: version=1 bytes=99999999999999999999 sha256=\n"));
}

}  // namespace
}  // namespace weft::ctl
