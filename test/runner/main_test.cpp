// Goal: the standard main behaves like a serious tool. Bad flags are one clear line and exit
// 2; a planted bug is reported with a one-line reproduction, and running exactly that line
// reproduces the same failure of the same seed on the same build; the JSON report parses;
// --jobs gives the verdicts of one process; --trace and --progress print what they promise.
// Method: run the counter_sim binary (the counter service behind runMain, with
// --bug_one_in planting a double-apply bug) as a subprocess and read its output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json_check.h"
#include "support/command.h"

namespace moonpool {
namespace {

using test_support::contains;
using test_support::quote;
using test_support::runCommand;

test_support::CommandResult run(const std::string& args) {
  return runCommand(quote(COUNTER_SIM) + " " + args);
}

std::vector<std::string> linesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (contains(line, needle)) out.push_back(line);
  }
  return out;
}

// The verdict columns of the --verbose table (seed, result), without wall times.
std::vector<std::string> verdicts(const std::string& output) {
  std::vector<std::string> out;
  for (const std::string& line : linesWith(output, " ")) {
    std::istringstream in(line);
    std::string seed, result;
    in >> seed >> result;
    if (!seed.empty() && std::isdigit(static_cast<unsigned char>(seed[0])) &&
        (result == "pass" || result == "FAIL")) {
      out.push_back(seed + " " + result);
    }
  }
  return out;
}

TEST(RunnerMainTest, BadFlagsExitTwoWithAClearMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--no_such_flag=1", "unknown flag --no_such_flag"},
      {"--seeds=abc", "invalid value 'abc' for --seeds"},
      {"--seeds", "flag --seeds needs a value"},
      {"--jobs=0", "--jobs must be in [1, 256], got 0"},
      {"--seeds=-3", "--seeds/--iterations must be in [1, 2^40]"},
      {"--seed=12x", "--seed must be an unsigned 64-bit integer, got '12x'"},
      {"--first_seed=soon", "--first_seed must be an unsigned 64-bit integer, got 'soon'"},
      {"stray", "unexpected argument 'stray'"},
      {"--replay=17@3", "--replay: bad recipe at byte 2"},
      {"--energy=5", "apply to exploration: add --explore"},
      {"--flagfile=/no/such/file", "--flagfile=/no/such/file: cannot read it"},
      {"--fromenv=seeds_not_set_here", "FLAGS_seeds_not_set_here is not set"},
      {"--progress_every=-1", "--progress_every must be in [0, 86400] seconds"},
      {"--ops=0", "--ops must be in [1, 100000]"},          // the binary's own validation
      {"--shard=2/2", "--shard must be I/N with 0 <= I < N <= 4096, got '2/2'"},
      {"--shard=1", "--shard must be I/N with 0 <= I < N <= 4096, got '1'"},
      {"--shard=/3", "--shard must be I/N with 0 <= I < N <= 4096, got '/3'"},
      {"--shard=0/5000", "--shard must be I/N with 0 <= I < N <= 4096, got '0/5000'"},
      {"--shard=0/2x", "--shard must be I/N with 0 <= I < N <= 4096, got '0/2x'"},
      {"--shard=0/2 --seed=4", "--shard splits a run of many seeds: drop --seed/--replay"},
  };
  for (const auto& [args, message] : cases) {
    const test_support::CommandResult r = run(args);
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, message)) << args << ": expected '" << message << "' in\n"
                                             << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

TEST(RunnerMainTest, HelpListsRunnerAndBinaryFlags) {
  const test_support::CommandResult r = run("--help");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  for (const char* needle : {"moonpool simulation 'counter'", "--seed ", "--seeds ", "--jobs ",
                             "--json ", "--trace ", "--bug_one_in ", "Exit status"}) {
    EXPECT_TRUE(contains(r.output, needle)) << needle << "\n" << r.output;
  }
}

TEST(RunnerMainTest, PlantedBugIsReproducedByItsLine) {
  const test_support::CommandResult sweep = run("--seeds=30 --bug_one_in=40 --ops=20");
  ASSERT_EQ(sweep.exitCode, 1) << sweep.output;
  const std::vector<std::string> repro = linesWith(sweep.output, "reproduce: ");
  const std::vector<std::string> failures = linesWith(sweep.output, ": check: workload 'client'");
  ASSERT_FALSE(repro.empty()) << sweep.output;
  ASSERT_EQ(repro.size(), failures.size());
  // "  seed 3: check: workload 'client': counter is 1039, expected 949"
  const std::string failure = failures.front().substr(failures.front().find("seed "));
  const std::string seed = failure.substr(5, failure.find(':') - 5);
  const std::string line = repro.front().substr(repro.front().find("reproduce: ") + 11);
  EXPECT_TRUE(contains(line, " --seed=" + seed + " ")) << line;
  EXPECT_TRUE(contains(line, "--bug_one_in=40 --ops=20 --build=")) << line;
  EXPECT_FALSE(contains(line, "--seeds")) << "runner flags are not part of the line: " << line;
  // The line as printed, through the shell (the binary checks the build it names).
  const test_support::CommandResult replay = runCommand(line);
  EXPECT_EQ(replay.exitCode, 1) << replay.output;
  EXPECT_TRUE(contains(replay.output, "iteration: replay of seed " + seed)) << replay.output;
  EXPECT_TRUE(contains(replay.output, failure)) << "expected '" << failure << "' in\n"
                                                << replay.output;
  const std::string build = line.substr(line.find("--build=") + 8);
  EXPECT_TRUE(contains(replay.output, "(build " + build + ")")) << replay.output;
  // The same line with another build id is refused, unless asked to run anyway.
  const std::string other = line.substr(0, line.find("--build=")) + "--build=0123456789abcdef";
  const test_support::CommandResult refused = runCommand(other);
  EXPECT_EQ(refused.exitCode, 4) << "another build: its own exit code\n" << refused.output;
  EXPECT_TRUE(contains(refused.output, "this binary is build " + build)) << refused.output;
  const test_support::CommandResult forced = runCommand(other + " --allow_build_mismatch");
  EXPECT_EQ(forced.exitCode, 1) << forced.output;
  EXPECT_TRUE(contains(forced.output, failure)) << forced.output;
}

TEST(RunnerMainTest, EachFailingSeedIsPrintedWhenFound) {
  const test_support::CommandResult r = run("--seeds=30 --bug_one_in=40 --ops=20");
  ASSERT_EQ(r.exitCode, 1) << r.output;
  // Streamed lines come before the report's summary, one per failing seed, with its line.
  const std::size_t summary = r.output.find("\nSummary\n");
  ASSERT_NE(summary, std::string::npos) << r.output;
  const std::string streamed = r.output.substr(0, summary);
  const std::vector<std::string> failed = linesWith(streamed, "FAILED seed ");
  EXPECT_EQ(failed.size(), linesWith(r.output.substr(summary), "  seed ").size()) << r.output;
  EXPECT_EQ(linesWith(streamed, "    reproduce: ").size(), failed.size()) << r.output;
}

TEST(RunnerMainTest, FlagfileFromenvAndVersion) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "flags");
  const std::string path = dir + "/flags.txt";
  std::ofstream(path) << "# a comment\n\n--seeds=3\n  --first_seed=100  \n--verbose\n";
  const test_support::CommandResult file = run("--flagfile=" + quote(path));
  EXPECT_EQ(file.exitCode, 0) << file.output;
  EXPECT_EQ(verdicts(file.output), (std::vector<std::string>{"100 pass", "101 pass", "102 pass"}))
      << file.output;
  std::ofstream(dir + "/bad.txt") << "--seeds=3\nstray\n";
  const test_support::CommandResult bad = run("--flagfile=" + quote(dir + "/bad.txt"));
  EXPECT_EQ(bad.exitCode, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "bad.txt:2: expected a flag, got 'stray'")) << bad.output;
  const test_support::CommandResult env =
      runCommand("FLAGS_seeds=2 FLAGS_first_seed=7 " + quote(COUNTER_SIM) +
                 " --fromenv=seeds,first_seed --verbose");
  EXPECT_EQ(env.exitCode, 0) << env.output;
  EXPECT_EQ(verdicts(env.output), (std::vector<std::string>{"7 pass", "8 pass"})) << env.output;
  const test_support::CommandResult version = run("--version");
  EXPECT_EQ(version.exitCode, 0) << version.output;
  EXPECT_TRUE(contains(version.output, ": moonpool 0.")) << version.output;
  EXPECT_TRUE(contains(version.output, "simulation 'counter', build ")) << version.output;
}

TEST(RunnerMainTest, RawBytesInAnAssertionMessageStayValidUtf8ForPython) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "utf8");
  const std::string json = dir + "/report.json";
  const std::string junit = dir + "/report.xml";
  const test_support::CommandResult r =
      run("--seeds=3 --plant_raw_bytes --json=" + quote(json) + " --junit=" + quote(junit));
  ASSERT_EQ(r.exitCode, 1) << r.output;
  const test_support::CommandResult check =
      runCommand("python3 " + quote(CHECK_REPORTS) + " --json " + quote(json) + " --junit " +
                 quote(junit) + " --expect-failing 3");
  EXPECT_EQ(check.exitCode, 0) << check.output;
  const test_support::CommandResult message = runCommand(
      "python3 -c 'import json,sys; r=json.load(open(sys.argv[1], encoding=\"utf-8\")); "
      "print([s[\"message\"] for s in r[\"assertions\"][\"sites\"] if \"planted\" in "
      "s[\"message\"]][0].encode(\"unicode_escape\").decode())' " + quote(json));
  EXPECT_TRUE(contains(message.output, "planted raw bytes \\ufffd\\ufffd in an assertion"))
      << message.output;
}

TEST(RunnerMainTest, JsonReportParsesAndMatchesTheText) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "json");
  const std::string path = dir + "/report.json";
  const test_support::CommandResult r = run("--seeds=12 --bug_one_in=30 --json=" + quote(path));
  ASSERT_EQ(r.exitCode, 1) << r.output;
  std::ifstream file(path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::string error;
  const std::optional<runner_testing::JsonValue> json = runner_testing::parseJson(text, error);
  ASSERT_TRUE(json.has_value()) << error << "\n" << text;
  EXPECT_EQ(json->get("exit_code")->number, 1);
  EXPECT_EQ(json->get("seeds")->items.size(), 12u);
  const auto& failing = json->get("failing_seeds")->items;
  ASSERT_FALSE(failing.empty());
  for (const runner_testing::JsonValue& seed : failing) {
    EXPECT_TRUE(contains(r.output, "reproduce: " + seed.get("reproduce")->text))
        << seed.get("reproduce")->text;
  }
  // --json=- writes JSON alone on stdout (the text report goes to stderr).
  const test_support::CommandResult stdoutOnly =
      runCommand("{ " + quote(COUNTER_SIM) + " --seeds=3 --json=- 2>/dev/null; }");
  EXPECT_EQ(stdoutOnly.exitCode, 0) << stdoutOnly.output;
  EXPECT_TRUE(runner_testing::parseJson(stdoutOnly.output, error).has_value()) << error;
}

TEST(RunnerMainTest, JobsGiveTheSameVerdicts) {
  const test_support::CommandResult one = run("--seeds=24 --bug_one_in=40 --verbose --jobs=1");
  const test_support::CommandResult two = run("--seeds=24 --bug_one_in=40 --verbose --jobs=2");
  EXPECT_EQ(one.exitCode, 1) << one.output;
  EXPECT_EQ(two.exitCode, 1) << two.output;
  EXPECT_EQ(verdicts(one.output).size(), 24u) << one.output;
  EXPECT_EQ(verdicts(one.output), verdicts(two.output));
  // The report lists failing seeds in seed order; the streamed lines come as seeds finish.
  EXPECT_EQ(linesWith(one.output, "  seed "), linesWith(two.output, "  seed "));
  std::vector<std::string> streamedOne = linesWith(one.output, "FAILED seed ");
  std::vector<std::string> streamedTwo = linesWith(two.output, "FAILED seed ");
  std::sort(streamedOne.begin(), streamedOne.end());
  std::sort(streamedTwo.begin(), streamedTwo.end());
  EXPECT_EQ(streamedOne, streamedTwo);
  EXPECT_TRUE(contains(two.output, "2 jobs)")) << two.output;
}

TEST(RunnerMainTest, SeedAndBudgetFlagsChooseTheSeeds) {
  const test_support::CommandResult chosen = run("--first_seed=100 --seeds=2 --verbose");
  EXPECT_EQ(chosen.exitCode, 0) << chosen.output;
  EXPECT_EQ(verdicts(chosen.output), (std::vector<std::string>{"100 pass", "101 pass"}))
      << chosen.output;
  const test_support::CommandResult random = run("--first_seed=random --seeds=2 --verbose");
  EXPECT_EQ(verdicts(random.output).size(), 2u) << random.output;
  const test_support::CommandResult budget = run("--time_budget=0.3");
  EXPECT_TRUE(contains(budget.output, "stopped          wall-time budget of 0.300000000s spent"))
      << budget.output;
  const test_support::CommandResult capped = run("--time_budget=60 --seeds=4");
  EXPECT_TRUE(contains(capped.output, "seeds run        4 (")) << capped.output;
  EXPECT_TRUE(contains(capped.output, "seed cap reached (4 seeds)")) << capped.output;
}

TEST(RunnerMainTest, ATerminalGetsALiveLineWithRateFailuresAndEta) {
  if (runCommand("command -v script").exitCode != 0) GTEST_SKIP() << "no script(1) for a pty";
  // script(1) runs the binary on a pseudo-terminal, as a person would.
  const test_support::CommandResult r = runCommand(
      "script -q -e -c " + quote(quote(COUNTER_SIM) + " --seeds=3000 --ops=2 --bug_one_in=40") +
      " /dev/null");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  for (const char* needle :
       {"\r\033[K  counter: ", " seeds of 3000 (", "/s), ", " failed, ", "ETA "}) {
    EXPECT_TRUE(contains(r.output, needle)) << needle;
  }
  // A failing seed is printed on its own line: the live line is erased first.
  EXPECT_TRUE(contains(r.output, "\r\033[KFAILED seed ")) << r.output.substr(0, 2000);
  EXPECT_FALSE(contains(r.output, "sFAILED seed ")) << "glued to the live line";
}

TEST(RunnerMainTest, MainScriptShowsTheBuildOutputWhenTheBuildFails) {
  // Fake cmake and dpkg-query first on PATH: the build fails with a compiler's error line,
  // every package reads as installed (setup.sh installs nothing).
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "main_sh");
  std::ofstream(dir + "/cmake") << "#!/bin/sh\n"
                                   "if [ \"$1\" = --build ]; then\n"
                                   "  echo 'examples/maze/maze.cpp:7:1: error: planted'; exit 1\n"
                                   "fi\n";
  std::ofstream(dir + "/dpkg-query") << "#!/bin/sh\nprintf installed\n";
  const test_support::CommandResult r =
      runCommand("chmod +x " + quote(dir + "/cmake") + " " + quote(dir + "/dpkg-query") +
                 " && PATH=" + quote(dir) + ":$PATH bash " + quote(MAIN_SH));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "examples/maze/maze.cpp:7:1: error: planted")) << r.output;
  EXPECT_TRUE(contains(r.output, "main job: 'cmake --build --preset release --target maze_sim "
                                 "moonpool-cov torn_append_sim' failed (its output is above)"))
      << r.output;
}

TEST(RunnerMainTest, TraceAndProgressPrintWhatTheyPromise) {
  const test_support::CommandResult traced = run("--seed=4 --trace");
  EXPECT_TRUE(contains(traced.output, "process.boot  counter-1")) << traced.output;
  EXPECT_TRUE(contains(traced.output, "net.connect  10.0.0.1->10.0.1.1:7000")) << traced.output;
  const test_support::CommandResult quiet = run("--seed=4");
  EXPECT_FALSE(contains(quiet.output, "process.boot")) << "off by default";
  // Not a terminal: pulse lines, each ending in a newline, never a carriage return.
  const test_support::CommandResult progress = run("--seeds=3 --progress");
  EXPECT_TRUE(contains(progress.output, "[progress] counter: 3 seeds of 3 (")) << progress.output;
  EXPECT_FALSE(contains(progress.output, "\r")) << progress.output;
  const test_support::CommandResult none = run("--seeds=3 --noprogress");
  EXPECT_FALSE(contains(none.output, "[progress]")) << none.output;
}

}  // namespace
}  // namespace moonpool
