// Goal: an actor works from an installed moonpool alone (issue 18): a user project declares
// a [[moonpool::actor]] (test/package/actor_consumer), generates its glue with the installed
// generator and plugin (moonpool_add_service), and calls it in simulation; the README's
// "Virtual actors" code is these files (readme_test checks the excerpts).
// Method: install this build tree into a temporary prefix; configure and build the consumer
// against it with -Werror; run wallet_main, which checks that three concurrent deposits add
// up and that a fresh runtime loads the stored balance, and prints "wallet ok".
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/command.h"

namespace {

namespace fs = std::filesystem;
using moonpool::test_support::contains;
using moonpool::test_support::quote;
using moonpool::test_support::runCommand;

TEST(PackageActor, AnActorBuildsAndRunsFromTheInstalledPrefix) {
  const fs::path work = fs::path(MOONPOOL_BINARY_DIR) / "package-actor-test";
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path prefix = work / "prefix";
  const fs::path build = work / "build";
  moonpool::test_support::CommandResult step = runCommand(
      "cmake --install " + quote(MOONPOOL_BINARY_DIR) + " --prefix " + quote(prefix.string()));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  step = runCommand("cmake -S " + quote(MOONPOOL_SOURCE_DIR "/test/package/actor_consumer") +
                    " -B " + quote(build.string()) + " -G Ninja -DCMAKE_CXX_COMPILER=clang++-19" +
                    " -DCMAKE_PREFIX_PATH=" + quote(prefix.string()) +
                    " -DCMAKE_CXX_COMPILER_LAUNCHER=" + quote(MOONPOOL_CCACHE) +
                    " -DMOONPOOL_ANNOTATE_LOCK=check" +
                    " -DCMAKE_CXX_FLAGS=" +
                    quote("-Wall -Wextra -Werror " MOONPOOL_CONSUMER_FLAGS));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  step = runCommand(std::string(MOONPOOL_CCACHE_ENV) + " cmake --build " + quote(build.string()));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  EXPECT_FALSE(contains(step.output, "warning:")) << step.output;
  step = runCommand(quote((build / "wallet_main").string()));
  EXPECT_EQ(step.exitCode, 0) << step.output;
  EXPECT_TRUE(contains(step.output, "wallet ok: 5, then 8 after three concurrent deposits"))
      << step.output;
}

}  // namespace
