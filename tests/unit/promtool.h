#pragma once
// Runs `promtool check metrics` (Debian package prometheus, installed by
// scripts/bootstrap) over a metrics text; skips the calling test when
// promtool is not installed.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace weft::test {

inline void expect_promtool_accepts(const std::string& text) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool is not installed";
  char path[] = "/tmp/weft-promtool-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  const std::string out_path = std::string(path) + ".out";
  const std::string cmd = "promtool check metrics < " + std::string(path) + " > " + out_path + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(out_path);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  ::unlink(out_path.c_str());
  EXPECT_EQ(rc, 0) << "promtool check metrics:\n" << out << "\non:\n" << text;
}

}  // namespace weft::test
