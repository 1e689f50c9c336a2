// Goal: a user's own service works from an installed moonpool alone (issue 15), and the
// README's guides are real: examples/guides, the code the README quotes, builds against the
// installed package with -Werror and runs.
// Method: install this build tree into a temporary prefix; configure and build
// examples/guides against it (its own CMake project: find_package(moonpool),
// moonpool_add_service with the installed generator and plugin); then run every program: the
// first simulation with --seeds, --seed, --replay and --explore; the service simulation
// (server and client as two simulated processes under network chaos) through the runner
// and through the installed gtest helper; the same service between two real processes on
// 127.0.0.1; and a plain Cap'n Proto client (no moonpool code) calling it through the hub.
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

// The two real processes: a server on a free port (written to a file), two calls through
// the generated remote, and the plain client; the server is stopped at the end.
std::string realProcessesScript(const fs::path& build) {
  const std::string node = quote((build / "tally_node").string());
  const std::string portFile = quote((build / "port.txt").string());
  return "rm -f " + portFile + "; " + node + " serve " + portFile + " 30 & server=$!; " +
         "for i in $(seq 100); do [ -s " + portFile + " ] && break; sleep 0.1; done; " +
         "port=$(cat " + portFile + "); status=0; " +
         node + " call $port apples 5 || status=1; " +
         node + " call $port apples 7 || status=1; " +
         quote((build / "plain_client").string()) + " $port apples || status=1; " +
         "kill $server; wait $server; exit $status";
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
             " -DCMAKE_CXX_FLAGS=" + quote("-Wall -Wextra -Werror " MOONPOOL_CONSUMER_FLAGS));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  step = run("cmake --build " + quote(build.string()));
  ASSERT_EQ(step.exitCode, 0) << step.output;
  EXPECT_FALSE(contains(step.output, "warning:")) << step.output;

  const std::string adder = quote((build / "adder").string());
  for (const std::string flags : {"--seeds=50", "--seed=3", "--replay=7", "--explore --seeds=2"}) {
    step = run(adder + " " + flags);
    EXPECT_EQ(step.exitCode, 0) << flags << "\n" << step.output;
    EXPECT_TRUE(contains(step.output, "passed")) << flags << "\n" << step.output;
  }
  step = run(quote((build / "tally_sim_main").string()) + " --seeds=10");
  EXPECT_EQ(step.exitCode, 0) << step.output;
  EXPECT_TRUE(contains(step.output, "All 10 seeds passed.")) << step.output;
  EXPECT_TRUE(contains(step.output, "an add was lost with its connection")) << step.output;
  step = run(quote((build / "tally_test").string()));
  EXPECT_EQ(step.exitCode, 0) << step.output;
  EXPECT_TRUE(contains(step.output, "[  PASSED  ] 1 test.")) << step.output;

  step = run("bash -c " + quote(realProcessesScript(build)));
  EXPECT_EQ(step.exitCode, 0) << step.output;
  EXPECT_TRUE(contains(step.output, "added 5: total 5 (read back 5)")) << step.output;
  EXPECT_TRUE(contains(step.output, "added 7: total 12 (read back 12)")) << step.output;
  EXPECT_TRUE(contains(step.output, "plain client: total 12")) << step.output;
}

}  // namespace
