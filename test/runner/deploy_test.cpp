// Goal: the cluster manifests in scripts/deploy/ (a Kubernetes Indexed Job and its merge Job, a
// Slurm array and its merge) are well-formed, agree with themselves (shard counts, the
// results volume), pass only flags the runner accepts, and run N shards and the merge into
// the report of the whole run.
// Method: deploy_check.py parses the YAML (python3-yaml) and runs each pod's command and
// each Slurm script as local processes with N = 2 against counter_sim, then compares the
// merged report with one unsharded run; it prints every problem it finds.
#include <gtest/gtest.h>

#include <string>

#include "support/command.h"

namespace moonpool {
namespace {

using test_support::quote;

TEST(RunnerDeployTest, ManifestsRunTheShardsAndTheMerge) {
  const std::string work = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "deploy");
  const test_support::CommandResult r = test_support::runCommand(
      "python3 " + quote(DEPLOY_CHECK) + " --deploy " + quote(DEPLOY_DIR) + " --sim " +
      quote(COUNTER_SIM) + " --merge " + quote(MOONPOOL_MERGE) + " --work " + quote(work));
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output, "") << "deploy_check.py prints only problems";
}

TEST(RunnerDeployTest, ThePackageInstallsTheMergeTool) {
  // The cluster images need moonpool-merge beside the simulation: `cmake --install` puts it
  // in bin/ (component moonpool_merge; a whole install includes it).
  const std::string prefix = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "prefix");
  const test_support::CommandResult installed = test_support::runCommand(
      "cmake --install " + quote(MOONPOOL_BINARY_DIR) + " --component moonpool_merge --prefix " +
      quote(prefix));
  ASSERT_EQ(installed.exitCode, 0) << installed.output;
  const test_support::CommandResult help =
      test_support::runCommand(quote(prefix + "/bin/moonpool-merge") + " --help");
  EXPECT_EQ(help.exitCode, 0) << help.output;
  EXPECT_TRUE(test_support::contains(help.output, "usage: moonpool-merge SHARD.json..."))
      << help.output;
}

}  // namespace
}  // namespace moonpool
