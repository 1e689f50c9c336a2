// Goal: a simulation binary's exit code names the class of outcome (REPORT_FORMATS.md, "Exit
// codes"): 0 passed, 1 a bug, 2 a usage error, 3 a coverage gap without a bug, 4 another
// build's line; the JSON's exit_code and the text's last line agree; --stop_at_first_bug ends
// a plain run (two workers) and an explored run at the first bug and says so.
// Method: run counter_sim (the counter service behind runMain, --bug_one_in plants a double
// apply; its "a large add (over 90)" sometimes-assertion holds only with enough adds) as a
// subprocess and read its exit code, last line and JSON report.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "json_check.h"
#include "support/command.h"

namespace moonpool {
namespace {

using runner_testing::JsonValue;
using test_support::contains;
using test_support::quote;
using test_support::runCommand;

test_support::CommandResult run(const std::string& args) {
  return runCommand(quote(COUNTER_SIM) + " " + args);
}

std::string lastLine(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) last = line;
  }
  return last;
}

std::string readText(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

JsonValue readJson(const std::string& path) {
  const std::string text = readText(path);
  std::string error;
  std::optional<JsonValue> json = runner_testing::parseJson(text, error);
  EXPECT_TRUE(json.has_value()) << error << "\n" << text;
  return json.value_or(JsonValue{});
}

struct Case {
  std::string args;
  int exitCode;
  std::string lastLineStart;
};

TEST(RunnerExitTest, EachOutcomeHasItsCode) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "codes");
  const Case cases[] = {
      {"--seeds=20", 0, "All 20 seeds passed."},
      {"--seeds=20 --bug_one_in=30", 1, "FAILED: "},
      // One add per seed: the sometimes-assertion "a large add (over 90)" never holds.
      {"--seeds=1 --ops=1", 3, "COVERAGE GAP: no bug, but 1 assertion contract(s) missed"},
      // A bug and a gap: the bug's code.
      {"--seeds=1 --ops=1 --plant_raw_bytes", 1, "FAILED: "},
  };
  for (const Case& c : cases) {
    const std::string json = dir + "/report.json";
    const test_support::CommandResult r = run(c.args + " --json=" + quote(json));
    EXPECT_EQ(r.exitCode, c.exitCode) << c.args << "\n" << r.output;
    EXPECT_EQ(lastLine(r.output).rfind(c.lastLineStart, 0), 0u) << c.args << "\n" << r.output;
    EXPECT_EQ(readJson(json).get("exit_code")->number, c.exitCode) << c.args;
  }
  EXPECT_EQ(run("--seeds=x").exitCode, 2);
  const test_support::CommandResult other = run("--seed=3 --build=0123456789abcdef");
  EXPECT_EQ(other.exitCode, 4) << other.output;
  EXPECT_TRUE(contains(other.output, "names another build")) << other.output;
  const test_support::CommandResult help = run("--help");
  EXPECT_EQ(help.exitCode, 0);
  for (const char* needle : {"1 a bug", "2 bad flags", "3 a coverage gap", "4 --build names",
                             "130 interrupted"}) {
    EXPECT_TRUE(contains(help.output, needle)) << needle << " in\n" << help.output;
  }
}

// The fields of a run stopped at its first bug, and its last line.
void expectStoppedAtFirstBug(const test_support::CommandResult& r, const JsonValue& json,
                             double seedsAsked) {
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_EQ(lastLine(r.output).rfind("FAILED, stopped at the first bug (--stop_at_first_bug): ", 0),
            0u)
      << r.output;
  EXPECT_TRUE(json.get("stopped_at_first_bug")->boolean);
  EXPECT_EQ(json.get("stop_reason")->text, "stopped at the first bug (--stop_at_first_bug)");
  const double seeds = json.get("totals")->get("seeds")->number;
  EXPECT_GE(json.get("totals")->get("failed")->number, 1);
  EXPECT_LT(seeds, seedsAsked) << "the run stopped early";
}

TEST(RunnerExitTest, StopAtFirstBugStopsEveryWorker) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "stop");
  const std::string json = dir + "/report.json";
  // About half the seeds fail: without the flag all 400 run.
  const test_support::CommandResult r =
      run("--seeds=400 --bug_one_in=30 --jobs=2 --stop_at_first_bug --json=" + quote(json) +
          " --junit=" + quote(dir + "/report.xml"));
  EXPECT_TRUE(contains(readText(dir + "/report.xml"),
                       "<property name=\"stop_reason\" value=\"stopped at the first bug"));
  const JsonValue report = readJson(json);
  expectStoppedAtFirstBug(r, report, 400);
  // The workers ran no further than a few seeds past the first failure (the one in progress
  // and what was in the pipe when it came back).
  const double firstFailing = report.get("failing_seeds")->items.at(0).get("index")->number;
  EXPECT_LE(report.get("totals")->get("seeds")->number, firstFailing + 8) << r.output;
  EXPECT_FALSE(contains(r.output, "crashed")) << "killed workers are not crashes\n" << r.output;
  const test_support::CommandResult all = run("--seeds=400 --bug_one_in=30 --jobs=2");
  EXPECT_TRUE(contains(all.output, "seeds run        400 (")) << all.output;
}

TEST(RunnerExitTest, StopAtFirstBugStopsAnExploredRun) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "explore");
  const std::string json = dir + "/report.json";
  // Rare enough that roots pass and explored timelines find the bug.
  const test_support::CommandResult r =
      run("--explore --seeds=50 --bug_one_in=400 --stop_at_first_bug --json=" + quote(json));
  const JsonValue report = readJson(json);
  expectStoppedAtFirstBug(r, report, 50);
  EXPECT_TRUE(report.get("explored")->boolean);
  // No timeline forks once the bug is found: one bug in the whole tree.
  EXPECT_EQ(report.get("exploration")->get("bugs")->number, 1) << r.output;
}

}  // namespace
}  // namespace moonpool
