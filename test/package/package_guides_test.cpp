// Goal: a user's own service works from an installed moonpool alone (issue 15), and the
// README's guides are real: examples/guides, the code the README quotes, builds against the
// installed package with -Werror and runs.
// Method: install this build tree into a temporary prefix; configure and build
// examples/guides against it (its own CMake project: find_package(moonpool),
// moonpool_add_service with the installed generator and plugin); then run
// examples/guides/run_guides.sh, the guides' commands: the first simulation with --seeds,
// --seed, --explore and --replay; the service simulation (server and client as two simulated
// processes under network chaos) through the runner and through the installed gtest helper;
// the same service between two real processes on 127.0.0.1; and a plain Cap'n Proto client
// (no moonpool code) calling it through the hub.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/command.h"

namespace {

namespace fs = std::filesystem;
using moonpool::test_support::contains;
using moonpool::test_support::quote;

struct Ran {
  int exitCode;
  std::string output;
};

Ran run(const std::string& command) {
  moonpool::test_support::CommandResult result = moonpool::test_support::runCommand(command);
  return {result.exitCode, result.output};
}

TEST(PackageGuides, BuildAndRunFromTheInstalledPrefix) {
  const fs::path work = fs::path(MOONPOOL_BINARY_DIR) / "package-guides-test";
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path prefix = work / "prefix";
  const fs::path build = work / "build";
  Ran step = run("cmake --install " + quote(MOONPOOL_BINARY_DIR) + " --prefix " +
                 quote(prefix.string()));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  step = run("cmake -S " + quote(MOONPOOL_SOURCE_DIR "/examples/guides") + " -B " +
             quote(build.string()) + " -G Ninja -DCMAKE_CXX_COMPILER=clang++-19" +
             " -DCMAKE_PREFIX_PATH=" + quote(prefix.string()) +
             " -DCMAKE_CXX_COMPILER_LAUNCHER=" + quote(MOONPOOL_CCACHE) +
             " -DCMAKE_CXX_FLAGS=" + quote("-Wall -Wextra -Werror " MOONPOOL_CONSUMER_FLAGS));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  step = run(std::string(MOONPOOL_CCACHE_ENV) + " cmake --build " + quote(build.string()));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  EXPECT_FALSE(contains(step.output, "warning:")) << step.output;

  // Every command the guides show (examples/guides/run_guides.sh), in order.
  step = run("bash " + quote(MOONPOOL_SOURCE_DIR "/examples/guides/run_guides.sh") + " " +
             quote(build.string()));
  EXPECT_EQ(step.exitCode, 0) << step.output;
  for (const char* expected : {
           "All 50 seeds passed.",                        // adder --seeds=50
           "seeds run        1 (1 passed, 0 failed)",     // --seed=3 and --replay=7
           "seeds run        2 (2 passed, 0 failed)",     // --explore --seeds=2
           "All 10 seeds passed.",                        // tally_sim_main
           "an add was lost with its connection",         // chaos reached the service
           "[  PASSED  ] 1 test.",                        // tally_test (runner_gtest)
           "added 5: total 5 (read back 5)",              // real client process
           "added 7: total 12 (read back 12)",
           "plain client: total 12"}) {                   // no moonpool code
    EXPECT_TRUE(contains(step.output, expected)) << expected << "\n" << step.output;
  }
}

}  // namespace
