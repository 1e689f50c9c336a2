// Goal: runMain's portfolio (runner.h, Portfolio) does what its flags say. --explore with a
// --time_budget runs a portfolio whose report says how the time was split; without a budget
// a run of N seeds explores N roots; the schedule's flags refuse bad values and a run
// without --explore; and a MOONPOOL_CHECK failing in a root's own plain run is a reported
// seed there too, the run going on.
// Method: run check_sim (a check failing in about one seed in four) as a subprocess.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "support/command.h"

namespace moonpool {
namespace {

using test_support::contains;
using test_support::quote;
using test_support::runCommand;

test_support::CommandResult run(const std::string& args) {
  return runCommand(quote(CHECK_SIM) + " " + args);
}

std::string readText(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(PortfolioMainTest, BadScheduleFlagsExitTwo) {
  const test_support::CommandResult high = run("--explore --explore_plain_percent=96");
  EXPECT_EQ(high.exitCode, 2) << high.output;
  EXPECT_TRUE(contains(high.output, "--explore_plain_percent must be in [0, 95], got 96"))
      << high.output;
  const test_support::CommandResult negative = run("--explore --explore_plain_first=-1");
  EXPECT_EQ(negative.exitCode, 2) << negative.output;
  EXPECT_TRUE(contains(negative.output, "--explore_plain_first must be in [0, 2^40], got -1"))
      << negative.output;
  const test_support::CommandResult plain = run("--explore_plain_first=5 --seeds=3");
  EXPECT_EQ(plain.exitCode, 2) << plain.output;
  EXPECT_TRUE(contains(plain.output, "schedule exploration: add --explore")) << plain.output;
}

TEST(PortfolioMainTest, ABudgetedExploredRunIsAPortfolioAndSaysSo) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "portfolio");
  // The count ends the run long before the budget; the budget makes it a portfolio.
  const test_support::CommandResult r =
      run("--explore --time_budget=60 --seeds=30 --explore_plain_first=12 --json=" +
          quote(dir + "/run.json"));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "seeds run        30 (")) << r.output;
  EXPECT_TRUE(contains(r.output, "schedule         portfolio: ")) << r.output;
  EXPECT_TRUE(contains(r.output, "(the first 12, then at least 50 % of runs)")) << r.output;
  EXPECT_TRUE(contains(r.output, "first bug        after ")) << r.output;
  // The check failing in roots' plain runs too: reported seeds, never the end of the run.
  EXPECT_TRUE(contains(r.output, "the planted check fails one seed in four")) << r.output;
  const std::string json = readText(dir + "/run.json");
  EXPECT_TRUE(contains(json, "\"schedule\":{")) << json.substr(0, 2000);
  EXPECT_TRUE(contains(json, "\"plain_first\":12")) << json.substr(0, 2000);
}

TEST(PortfolioMainTest, WithoutABudgetEverySeedIsExplored) {
  const test_support::CommandResult r = run("--explore --seeds=3 --explore_plain_first=0 "
                                            "--explore_plain_percent=0");
  EXPECT_TRUE(contains(r.output, "seeds run        3 (")) << r.output;
  EXPECT_FALSE(contains(r.output, "schedule ")) << r.output;
  const test_support::CommandResult unbudgeted = run("--explore --seeds=3");
  EXPECT_FALSE(contains(unbudgeted.output, "schedule ")) << unbudgeted.output;
}

}  // namespace
}  // namespace moonpool
