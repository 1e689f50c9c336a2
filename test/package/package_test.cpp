// Goal: after `cmake --install`, a user project finds moonpool with find_package(moonpool)
// and builds and runs against it (the CMake package config is complete and relocatable).
// Method: install this build tree into a temporary prefix, configure + build the consumer
// project in test/package/consumer against it, and run the result.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/command.h"

namespace {

// Runs `command`, appending its output to `log`; returns its exit code.
int run(const std::string& command, std::string* log) {
  moonpool::test_support::CommandResult result = moonpool::test_support::runCommand(command);
  *log += result.output;
  return result.exitCode;
}

TEST(PackageTest, FindPackageAfterInstall) {
  namespace fs = std::filesystem;
  const fs::path work = fs::path(MOONPOOL_BINARY_DIR) / "package-test";
  fs::remove_all(work);
  fs::create_directories(work);
  const std::string prefix = (work / "prefix").string();
  std::string log;
  ASSERT_EQ(run("cmake --install '" MOONPOOL_BINARY_DIR "' --prefix '" + prefix + "'", &log), 0)
      << log;
  ASSERT_EQ(run("cmake -S '" MOONPOOL_SOURCE_DIR "/test/package/consumer' -B '" +
                    (work / "build").string() + "' -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 "
                    "-DCMAKE_PREFIX_PATH='" + prefix +
                    "' -DCMAKE_CXX_FLAGS='" MOONPOOL_CONSUMER_FLAGS
                    "' -DCMAKE_CXX_COMPILER_LAUNCHER='" MOONPOOL_CCACHE "'",
                &log),
            0)
      << log;
  ASSERT_EQ(run(MOONPOOL_CCACHE_ENV " cmake --build '" + (work / "build").string() + "'", &log),
            0)
      << log;
  std::string out;
  ASSERT_EQ(run("'" + (work / "build" / "consumer").string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("consumer ok"), std::string::npos) << out;
  // One layer alone links and runs.
  ASSERT_EQ(run("'" + (work / "build" / "sim_only").string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("sim_only ok"), std::string::npos) << out;
}

}  // namespace
