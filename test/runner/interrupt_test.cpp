// Goal: SIGINT and SIGTERM stop a run cleanly. The report, the JSON and the JUnit file cover
// every seed finished (the failing seeds seen so far included, each also printed as soon as
// it failed), "interrupted" is stated, the exit code is 130, and no process is left behind:
// forked workers and explored timelines are all reaped, none orphaned.
// Method: start counter_sim (a planted bug in about one seed in three) or maze_sim
// (exploration) as a real child process in its own process group, wait until it has done
// some work, then send SIGINT to the whole group (what a terminal's Ctrl-C does) or SIGTERM
// to the runner alone. This test process is a child subreaper, so any process the runner
// left behind would be reparented here: after reaping the runner, waitpid(-1) must find
// nothing. The JSON and JUnit files are checked by Python (check_reports.py).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "moonpool/real/wall_clock.h"
#include "support/command.h"

namespace moonpool {
namespace {

using test_support::contains;
using test_support::quote;

constexpr Duration kWaitMax = std::chrono::seconds(30);

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::size_t countOf(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A runner started in its own process group, stdout and stderr into `output`.
class Runner {
 public:
  Runner(const std::vector<std::string>& argv, std::string output) : output_(std::move(output)) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int fd = open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    setpgid(pid_, pid_);  // either side may win the race; both set the same group
  }
  ~Runner() {
    if (pid_ > 0) kill(-pid_, SIGKILL);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Waits until the output holds `count` times `needle`; false after kWaitMax.
  bool waitForOutput(const std::string& needle, std::size_t count) const {
    const WallTimer waited;
    while (waited.elapsed() < kWaitMax) {
      if (countOf(output(), needle) >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void signalGroup(int signal) const { kill(-pid_, signal); }
  void signalRunner(int signal) const { kill(pid_, signal); }

  // The runner's exit code (-signal when killed), kWaitMax at most; then whether any other
  // process was left: none may be reparented to this subreaper.
  int reap() {
    const WallTimer waited;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (waited.elapsed() > kWaitMax) {
        ADD_FAILURE() << "the runner did not stop within 30 s of the signal";
        kill(-pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  std::string output() const { return readFile(output_); }

 private:
  std::string output_;
  pid_t pid_ = -1;
};

// Every process the runner made was reaped by it: nothing was reparented to this process.
void expectNothingLeftBehind() {
  int status = 0;
  const pid_t left = waitpid(-1, &status, WNOHANG);
  EXPECT_EQ(left, -1) << "a process outlived the runner (pid " << left << ")";
  EXPECT_EQ(errno, ECHILD);
}

void expectReportsValid(const std::string& json, const std::string& junit, int failingMin) {
  const test_support::CommandResult check = test_support::runCommand(
      "python3 " + quote(CHECK_REPORTS) + " --interrupted --json " + quote(json) +
      (junit.empty() ? std::string() : " --junit " + quote(junit)) +
      " --expect-failing " + std::to_string(failingMin));
  EXPECT_EQ(check.exitCode, 0) << check.output << readFile(json).substr(0, 2000);
}

struct Paths {
  std::string out, json, junit;
};

Paths paths(const std::string& name) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, name);
  return {dir + "/output.txt", dir + "/report.json", dir + "/report.xml"};
}

TEST(RunnerInterruptTest, SigintWritesTheReportOfEverySeedFinished) {
  const Paths p = paths("sigint");
  Runner runner({COUNTER_SIM, "--seeds=10000000", "--bug_one_in=40", "--json=" + p.json,
                 "--junit=" + p.junit},
                p.out);
  ASSERT_TRUE(runner.waitForOutput("FAILED seed ", 5)) << runner.output();
  runner.signalRunner(SIGINT);
  EXPECT_EQ(runner.reap(), 130) << runner.output();
  expectNothingLeftBehind();
  const std::string output = runner.output();
  EXPECT_TRUE(contains(output, "INTERRUPTED: the report covers the ")) << output;
  EXPECT_TRUE(contains(output, "stopped          interrupted (SIGINT/SIGTERM)")) << output;
  expectReportsValid(p.json, p.junit, 5);
}

TEST(RunnerInterruptTest, CtrlCWithJobsStopsAndReapsEveryWorker) {
  const Paths p = paths("ctrlc_jobs");
  Runner runner({COUNTER_SIM, "--seeds=10000000", "--bug_one_in=40", "--jobs=2",
                 "--json=" + p.json},
                p.out);
  ASSERT_TRUE(runner.waitForOutput("FAILED seed ", 4)) << runner.output();
  runner.signalGroup(SIGINT);  // the terminal: the runner and its workers at once
  EXPECT_EQ(runner.reap(), 130) << runner.output();
  expectNothingLeftBehind();
  EXPECT_FALSE(contains(runner.output(), "crashed")) << "a stopped worker is no crash";
  expectReportsValid(p.json, "", 4);
}

TEST(RunnerInterruptTest, SigtermToTheRunnerAloneReachesItsWorkers) {
  const Paths p = paths("sigterm_jobs");
  Runner runner({COUNTER_SIM, "--seeds=10000000", "--bug_one_in=40", "--jobs=2",
                 "--json=" + p.json},
                p.out);
  ASSERT_TRUE(runner.waitForOutput("FAILED seed ", 4)) << runner.output();
  runner.signalRunner(SIGTERM);
  EXPECT_EQ(runner.reap(), 130) << runner.output();
  expectNothingLeftBehind();
  expectReportsValid(p.json, "", 4);
}

#ifdef MAZE_SIM
// The maze explores each of 1000 seeds (about a second each in this build): the signal lands
// while timelines are forked.
void interruptExploration(const std::string& name, const std::vector<std::string>& flags,
                          bool group) {
  const Paths p = paths(name);
  std::vector<std::string> argv = {MAZE_SIM, "--seeds=1000", "--progress", "--json=" + p.json};
  argv.insert(argv.end(), flags.begin(), flags.end());
  Runner runner(argv, p.out);
  // Progress lines count timelines, within the first seed too: wait until some were forked.
  ASSERT_TRUE(runner.waitForOutput("[progress] maze: 0 seeds of 1000 ", 1)) << runner.output();
  EXPECT_TRUE(contains(runner.output(), " timelines")) << runner.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  if (group) {
    runner.signalGroup(SIGINT);
  } else {
    runner.signalRunner(SIGINT);
  }
  EXPECT_EQ(runner.reap(), 130) << runner.output();
  expectNothingLeftBehind();
  expectReportsValid(p.json, "", 0);
}

TEST(RunnerInterruptTest, CtrlCDuringExplorationReapsEveryTimeline) {
  interruptExploration("explore_ctrlc", {"--explore"}, true);
}

TEST(RunnerInterruptTest, SigintToTheRootDuringParallelExplorationReapsEveryTimeline) {
  interruptExploration("explore_root", {"--explore", "--jobs=2"}, false);
}

// The fixed search order: the root's forkers and their workers are stopped and reaped too.
TEST(RunnerInterruptTest, CtrlCDuringFixedOrderExplorationReapsEveryWorker) {
  interruptExploration("explore_fixed_ctrlc", {"--explore", "--explore_order=fixed", "--jobs=2"},
                       true);
}

TEST(RunnerInterruptTest, SigintToTheRootDuringFixedOrderExplorationReapsEveryWorker) {
  interruptExploration("explore_fixed_root", {"--explore", "--explore_order=fixed", "--jobs=2"},
                       false);
}
#endif

}  // namespace
}  // namespace moonpool
