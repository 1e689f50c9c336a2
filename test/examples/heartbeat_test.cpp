// Goal: the main job's workload is correct and deterministic, and its binary handles flags
// like a serious tool: bad flags are clear errors (exit 2), a run prints the report.
// Method: run seeds of the heartbeat cluster in-process (properties hold, same seed => same
// stats and decision hash), then run the heartbeat_sim binary with good and bad flags.
#include <gtest/gtest.h>

#include <string>

#include "heartbeat.h"
#include "moonpool/sim/simulation.h"
#include "support/command.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

struct Result {
  RunOutcome outcome;
  examples::SeedStats stats;
};

Result runSeed(std::uint64_t seed, Duration simulated) {
  Simulation sim(SimOptions{.seed = seed});
  examples::HeartbeatOptions options;
  options.simulated = simulated;
  Result r;
  auto main = [](Providers p, examples::HeartbeatOptions o, examples::SeedStats* out) -> Task<void> {
    *out = co_await examples::runHeartbeatCluster(p, o);
  };
  r.outcome = sim.run(main(sim.providers(), options, &r.stats));
  return r;
}

TEST(HeartbeatTest, PropertiesHoldAcrossSeeds) {
  std::uint64_t detections = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    Result r = runSeed(seed, 120s);
    ASSERT_TRUE(r.outcome.ok()) << r.outcome.message;
    for (const auto& v : r.stats.violations) ADD_FAILURE() << "seed " << seed << ": " << v;
    EXPECT_EQ(r.outcome.endTime, TimePoint(120s));
    detections += r.stats.detections;
  }
  EXPECT_GT(detections, 50u) << "pauses are injected and detected";
}

TEST(HeartbeatTest, SameSeedSameRun) {
  Result a = runSeed(42, 60s);
  Result b = runSeed(42, 60s);
  EXPECT_EQ(a.outcome.decisionHash, b.outcome.decisionHash);
  EXPECT_EQ(a.stats.messagesSent, b.stats.messagesSent);
  EXPECT_EQ(a.stats.detections, b.stats.detections);
  Result c = runSeed(43, 60s);
  EXPECT_NE(a.outcome.decisionHash, c.outcome.decisionHash);
}

int runBinary(const std::string& args, std::string* output) {
  test_support::CommandResult result =
      test_support::runCommand(test_support::quote(HEARTBEAT_SIM) + " " + args);
  *output += result.output;
  return result.exitCode;
}

TEST(HeartbeatTest, BinaryPrintsAReport) {
  std::string out;
  EXPECT_EQ(runBinary("--seeds=3", &out), 0) << out;
  for (const char* needle : {"seeds run        3 (3 passed, 0 failed)", "simulated time",
                             "events (steps)", "wall time", "sim / wall", "Assertions (all seeds)",
                             "a paused node is suspected"}) {
    EXPECT_NE(out.find(needle), std::string::npos) << needle << " missing from:\n" << out;
  }
}

TEST(HeartbeatTest, BadFlagsAreClearErrors) {
  std::string out;
  EXPECT_NE(runBinary("--no_such_flag=1", &out), 0);
  EXPECT_NE(out.find("no_such_flag"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(runBinary("--nodes=1", &out), 2);
  EXPECT_NE(out.find("--nodes must be in [2, 64], got 1"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(runBinary("--seeds=abc", &out), 0);
  EXPECT_NE(out.find("seeds"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(runBinary("stray", &out), 2);
  EXPECT_NE(out.find("unexpected argument 'stray'"), std::string::npos) << out;
}

}  // namespace
}  // namespace moonpool
