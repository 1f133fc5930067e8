// main() for packet-test binaries: GoogleTest with the EAL brought up once,
// before the first test (eal_env.h).

#include <gtest/gtest.h>

#include <string>

#include "tests/packet/eal_env.h"

namespace {

class EalEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(weft::test::start_test_eal("weft-packet-test", &error)) << error;
  }
  void TearDown() override { weft::test::stop_test_eal(); }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new EalEnvironment);
  return RUN_ALL_TESTS();
}
