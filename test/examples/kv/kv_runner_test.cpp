// Goal: the KV store, Cap'n Proto showcase of the project, is an ordinary runner binary:
// kv_sim explores (--explore), parallelises (--jobs) with the verdicts and runs of one
// process, writes its JSON report to stdout (--json=-), and replays a seed (--seed) and a
// recipe (--replay) to the very same run.
// Method: run kv_sim as a subprocess with short chaos phases and compare the decision hashes
// (a rolling hash of every scheduling decision) in its JSON reports.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "support/command.h"

namespace moonpool::kv {
namespace {

using Json = nlohmann::json;
using test_support::quote;

struct KvRun {
  int exitCode = -1;
  Json report;
};

// kv_sim with `flags` and --json=- (the text report to stderr, dropped).
KvRun kvSim(const std::string& flags) {
  const test_support::CommandResult r = test_support::runCommand(
      "{ " + quote(KV_SIM) + " --noprogress --chaos_s=15 --json=- " + flags + " 2>/dev/null; }");
  KvRun run{.exitCode = r.exitCode, .report = {}};
  run.report = Json::parse(r.output, nullptr, false);
  EXPECT_FALSE(run.report.is_discarded()) << flags << ": not JSON:\n" << r.output.substr(0, 500);
  return run;
}

std::map<std::uint64_t, std::string> hashes(const Json& report) {
  std::map<std::uint64_t, std::string> out;
  if (!report.is_object()) return out;
  for (const Json& seed : report.at("seeds")) {
    out[seed.at("seed").get<std::uint64_t>()] = seed.at("decision_hash").get<std::string>();
  }
  return out;
}

TEST(KvRunner, JobsGiveTheRunsOfOneProcessAndSeedsReplay) {
  const KvRun one = kvSim("--seeds=4 --jobs=1");
  const KvRun two = kvSim("--seeds=4 --jobs=2");
  ASSERT_TRUE(two.report.is_object());
  EXPECT_EQ(two.report.at("totals").at("seeds"), 4);
  EXPECT_EQ(two.report.at("totals").at("failed"), 0) << two.report.at("failing_seeds").dump();
  EXPECT_EQ(two.report.at("jobs"), 2);
  EXPECT_GT(two.report.at("metrics").at("puts acked").at("value").get<int>(), 0);
  EXPECT_EQ(hashes(one.report), hashes(two.report));
  ASSERT_EQ(hashes(two.report).size(), 4u);
  const std::string third = hashes(two.report).at(3);
  EXPECT_EQ(hashes(kvSim("--seed=3").report).at(3), third);
  // A recipe without a fork is its root seed: the same run again.
  EXPECT_EQ(hashes(kvSim("--replay=3").report).at(3), third);
}

TEST(KvRunner, ExploresItsSeeds) {
  const KvRun explored = kvSim("--explore --seeds=2 --energy=6");
  ASSERT_TRUE(explored.report.is_object());
  EXPECT_TRUE(explored.report.at("explored").get<bool>());
  EXPECT_EQ(explored.report.at("totals").at("seeds"), 2);
  EXPECT_EQ(explored.report.at("totals").at("failed"), 0)
      << explored.report.at("failing_seeds").dump();
  EXPECT_GT(explored.report.at("exploration").at("timelines").get<int>(), 0);
  for (const Json& seed : explored.report.at("seeds")) {
    EXPECT_LE(seed.at("exploration").at("timelines").get<int>(), 6);
  }
}

}  // namespace
}  // namespace moonpool::kv
