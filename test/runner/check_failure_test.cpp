// Goal: a MOONPOOL_CHECK that fails inside a plain seed is a reported bug: the seed fails
// with the check's report (condition, operands, message, location) and its reproduction
// line, and the run goes on with the next seed, with --jobs=1 as with --jobs=2 (it used to
// end a one-job run without a report, and to say only "worker killed by signal 6" with more).
// Method: run check_sim (a check failing in about one seed in four) as a subprocess and read
// its text and JSON reports; replay one failing seed with its line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/command.h"

namespace moonpool {
namespace {

using test_support::contains;
using test_support::quote;
using test_support::runCommand;

constexpr int kSeeds = 24;
constexpr const char* kReport =
    "moonpool check failed: drawn != std::uint64_t{0} (left = 0, right = 0: the planted check "
    "fails one seed in four)";

std::vector<std::string> failingSeedLines(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  seed ", 0) == 0 && contains(line, ": crashed: ")) out.push_back(line);
  }
  return out;
}

std::string runChecks(int jobs, const std::string& json) {
  const test_support::CommandResult r =
      runCommand(quote(CHECK_SIM) + " --seeds=" + std::to_string(kSeeds) +
                 " --jobs=" + std::to_string(jobs) + " --json=" + quote(json));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "seeds run        " + std::to_string(kSeeds) + " ("))
      << "the run went on after each failed check:\n" << r.output;
  EXPECT_TRUE(contains(r.output, kReport)) << r.output;
  EXPECT_TRUE(contains(r.output, "test/runner/check_sim_main.cpp:")) << r.output;
  EXPECT_TRUE(contains(r.output, "reproduce: ")) << r.output;
  std::ifstream file(json);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_TRUE(contains(text.str(), "the planted check fails one seed in four")) << text.str();
  return r.output;
}

TEST(CheckFailureTest, AFailedCheckIsAReportedSeedWithOneJobAndWithTwo) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "checks");
  const std::string one = runChecks(1, dir + "/one.json");
  const std::string two = runChecks(2, dir + "/two.json");
  const std::vector<std::string> failing = failingSeedLines(one);
  EXPECT_GE(failing.size(), 2u) << one;
  EXPECT_LT(failing.size(), static_cast<std::size_t>(kSeeds)) << one;
  // The same seeds fail whichever worker ran them.
  std::vector<std::string> seedsOne, seedsTwo;
  for (const std::string& line : failing) seedsOne.push_back(line.substr(0, line.find(':')));
  for (const std::string& line : failingSeedLines(two)) {
    seedsTwo.push_back(line.substr(0, line.find(':')));
  }
  std::sort(seedsTwo.begin(), seedsTwo.end());
  std::sort(seedsOne.begin(), seedsOne.end());
  EXPECT_EQ(seedsOne, seedsTwo);
}

TEST(CheckFailureTest, TheReproductionLineFailsTheSameCheck) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "replay");
  const std::string output = runChecks(1, dir + "/run.json");
  std::istringstream in(output);
  std::string line;
  std::string reproduce;
  while (std::getline(in, line)) {
    const std::size_t at = line.find("reproduce: ");
    if (at != std::string::npos) {
      reproduce = line.substr(at + 11);
      break;
    }
  }
  ASSERT_FALSE(reproduce.empty()) << output;
  EXPECT_TRUE(contains(reproduce, "--seed=")) << reproduce;
  // A single-seed replay runs in this process: the check aborts it, its report on stderr.
  const test_support::CommandResult replayed = runCommand(reproduce);
  EXPECT_NE(replayed.exitCode, 0) << replayed.output;
  EXPECT_TRUE(contains(replayed.output, kReport)) << replayed.output;
}

}  // namespace
}  // namespace moonpool
