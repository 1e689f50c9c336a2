// Goal: the main job's workload is correct and deterministic, both as the in-process link
// model (heartbeat.h, used by benchmarks) and as processes of the simulated world run by the
// runner (heartbeat_world.h, the main job); its binary handles flags like a serious tool and
// prints the runner's report.
// Method: run seeds of both versions in-process (properties hold, same seed => same stats and
// decision hash), then run the heartbeat_sim binary with good and bad flags.
#include <gtest/gtest.h>

#include <string>

#include "heartbeat.h"
#include "heartbeat_world.h"
#include "moonpool/runner/runner.h"
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
  auto main = [](Providers p, examples::HeartbeatOptions o,
                 examples::SeedStats* out) -> Task<void> {
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

TEST(HeartbeatTest, WorldVersionHoldsItsPropertiesAndReplays) {
  examples::HeartbeatOptions options;
  options.simulated = 120s;
  const RunReport report = runSimulation(examples::heartbeatSimulation(options).iterations(6));
  ASSERT_EQ(report.seeds.size(), 6u);
  for (const SeedResult& s : report.seeds) {
    EXPECT_EQ(s.verdict, SeedVerdict::kPass) << "seed " << s.seed << ": " << s.message;
  }
  EXPECT_GT(report.metrics.at("detections").value, 10) << "pauses are injected and detected";
  EXPECT_GT(report.faultCounts.at("process.pause"), 6u);
  const RunReport again = runSimulation(examples::heartbeatSimulation(options),
                                        RunOptions{.seed = report.seeds[3].seed});
  EXPECT_EQ(again.seeds[0].decisionHash, report.seeds[3].decisionHash);
  EXPECT_EQ(again.seeds[0].metrics.at("detections").value,
            report.seeds[3].metrics.at("detections").value);
}

int runBinary(const std::string& args, std::string* output) {
  test_support::CommandResult result =
      test_support::runCommand(test_support::quote(HEARTBEAT_SIM) + " " + args);
  *output += result.output;
  return result.exitCode;
}

TEST(HeartbeatTest, BinaryPrintsTheRunnersReport) {
  std::string out;
  EXPECT_EQ(runBinary("--seeds=3 --sim_seconds=120", &out), 0) << out;
  for (const char* needle :
       {"moonpool simulation 'heartbeat'", "seeds run        3 (3 passed, 0 failed)",
        "simulated time", "events (steps)", "wall time", "sim / wall", "Faults fired",
        "process.pause", "detections", "Assertions (all seeds)", "a paused node is suspected",
        "All 3 seeds passed."}) {
    EXPECT_NE(out.find(needle), std::string::npos) << needle << " missing from:\n" << out;
  }
  // Only the world version's sites are in the binary's catalog.
  EXPECT_EQ(out.find("heartbeat.cpp:"), std::string::npos) << out;
}

TEST(HeartbeatTest, BadFlagsAreClearErrors) {
  std::string out;
  EXPECT_EQ(runBinary("--no_such_flag=1", &out), 2);
  EXPECT_NE(out.find("unknown flag --no_such_flag"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(runBinary("--nodes=1", &out), 2);
  EXPECT_NE(out.find("--nodes must be in [2, 64], got 1"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(runBinary("--seeds=abc", &out), 2);
  EXPECT_NE(out.find("invalid value 'abc' for --seeds"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(runBinary("stray", &out), 2);
  EXPECT_NE(out.find("unexpected argument 'stray'"), std::string::npos) << out;
}

}  // namespace
}  // namespace moonpool
