// Goal: a seed goes through setup, run, chaos, settle and check in that order; every way a
// seed can fail is reported with a clear reason and never stops the run; nothing leaks from
// one seed to the next; forked workers give the same verdicts as one process.
// Method: small workloads (no network) that record what they see in their per-seed state
// and fail on purpose for chosen seeds, plus the counter service (counter_sim.h) with its
// bug planted; runSimulation() in-process, checking SeedResults and report fields.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "counter_sim.h"
#include "moonpool/assertions.h"
#include "moonpool/assertions/table.h"
#include "moonpool/runner/gtest.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// ---- phases ---------------------------------------------------------------------------------

Task<void> recordSetup(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(10ms);  // setups run one after the other
  ctx.addMetric("setups", 1);
  ctx.maxMetric("setup_end_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                    ctx.providers().time().now().time_since_epoch())
                                    .count());
}

Task<void> recordRun(WorkloadContext& ctx) {
  // Runs start together, after every setup; a run that ends early still sees chaos end
  // before checks begin.
  ctx.maxMetric("run_start_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                    ctx.providers().time().now().time_since_epoch())
                                    .count());
  MOONPOOL_CHECK(!ctx.chaosOver().isSet(), "chaos is running while run() starts");
  co_await ctx.chaosOver().wait();
  ctx.maxMetric("chaos_over_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                     ctx.providers().time().now().time_since_epoch())
                                     .count());
}

Task<CheckResult> recordCheck(WorkloadContext& ctx) {
  ctx.maxMetric("check_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                ctx.providers().time().now().time_since_epoch())
                                .count());
  co_return CheckResult::pass();
}

TEST(RunnerTest, PhasesRunInOrder) {
  SimulationBuilder builder("phases");
  builder
      .workload(Workload{.name = "w",
                         .setup = recordSetup,
                         .run = recordRun,
                         .check = recordCheck,
                         .instances = 3})
      .chaos(ChaosOptions{.clock = ClockDriftOptions{.offsetMax = Duration{0}, .ppmMax = 0}})
      .chaosDuration(5s)
      .settleDuration(2s)
      .iterations(3);
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 3u);
  for (const SeedResult& s : report.seeds) {
    ASSERT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
    EXPECT_EQ(s.metrics.at("setups").value, 3);
    // Three sequential setups of 10 ms each; runs start when the last one ended.
    EXPECT_EQ(s.metrics.at("setup_end_ms").value, 30);
    EXPECT_EQ(s.metrics.at("run_start_ms").value, 30);
    EXPECT_EQ(s.metrics.at("chaos_over_ms").value, 5030);
    EXPECT_EQ(s.metrics.at("check_ms").value, 7030);  // after 2 s of settle
    EXPECT_EQ(s.simulated, 7030ms);
  }
  EXPECT_EQ(report.metrics.at("setups").value, 9);
}

// ---- failures --------------------------------------------------------------------------------

Task<void> noop(WorkloadContext&) { co_return; }

Task<void> throwOnOdd(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  if (ctx.seed() % 2 == 1) throw Exception(ErrorKind::kFailed, "planted run failure");
}

Task<CheckResult> failOnSeedThree(WorkloadContext& ctx) {
  if (ctx.seed() == 3) co_return CheckResult::fail("state diverged at seed three");
  if (ctx.seed() == 4) throw Exception(ErrorKind::kFailed, "check could not read state");
  co_return CheckResult::pass();
}

TEST(RunnerTest, WorkloadErrorsAndFailedChecksFailTheSeed) {
  SimulationBuilder builder("failures");
  builder.workload(Workload{.name = "w", .run = throwOnOdd, .check = failOnSeedThree})
      .seeds({2, 3, 4, 6});
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 4u);
  EXPECT_EQ(report.seeds[0].verdict, SeedVerdict::kPass);
  EXPECT_EQ(report.seeds[1].failure, SeedFailure::kWorkloadError);
  EXPECT_TRUE(has(report.seeds[1].message, "workload 'w' run() threw: failed: planted run failure"))
      << report.seeds[1].message;
  EXPECT_EQ(report.seeds[2].failure, SeedFailure::kCheck);
  EXPECT_TRUE(has(report.seeds[2].message, "check() threw: failed: check could not read state"))
      << report.seeds[2].message;
  EXPECT_EQ(report.seeds[3].verdict, SeedVerdict::kPass);
  EXPECT_EQ(report.exitCode(), 1);
}

TEST(RunnerTest, FailedCheckNamesTheWorkloadAndViolation) {
  SimulationBuilder builder("check");
  builder.workload(Workload{.name = "auditor", .run = noop, .check = failOnSeedThree}).seeds({3});
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 1u);
  EXPECT_EQ(report.seeds[0].failure, SeedFailure::kCheck);
  EXPECT_EQ(report.seeds[0].message, "workload 'auditor': state diverged at seed three");
}

Task<void> assertOnSeedFive(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1ms);
  MOONPOOL_ALWAYS(ctx.seed() != 5, "seed five breaks the invariant");
}

TEST(RunnerTest, AlwaysViolationFailsOnlyItsSeed) {
  resetAssertionTable();
  setFailurePrinting(FailurePrinting::kOff);
  SimulationBuilder builder("assert");
  builder.workload(Workload{.name = "w", .run = assertOnSeedFive}).firstSeed(4).iterations(3);
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 3u);
  EXPECT_EQ(report.seeds[0].verdict, SeedVerdict::kPass);
  EXPECT_EQ(report.seeds[1].failure, SeedFailure::kAssertion);
  EXPECT_TRUE(has(report.seeds[1].message, "always \"seed five breaks the invariant\""))
      << report.seeds[1].message;
  EXPECT_EQ(report.seeds[1].assertionFailures, 1u);
  EXPECT_EQ(report.seeds[2].verdict, SeedVerdict::kPass) << "violations do not leak";
  setFailurePrinting(FailurePrinting::kFirstPerSite);
}

Task<void> explodingServer(ProcessContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  throw Exception(ErrorKind::kFailed, "server main exploded");
}

Task<void> waitForever(WorkloadContext& ctx) {
  for (;;) co_await ctx.providers().time().sleep(10s);
}

TEST(RunnerTest, AThrowingProcessMainFailsTheSeedAtOnce) {
  SimulationBuilder builder("crashing server");
  builder.processes(1, "server", explodingServer)
      .workload(Workload{.name = "w", .run = waitForever})
      .iterations(2);
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 2u);
  for (const SeedResult& s : report.seeds) {
    EXPECT_EQ(s.failure, SeedFailure::kProcessError);
    EXPECT_TRUE(has(s.message,
                    "process 'server-1' (incarnation 1) main threw: failed: server main exploded"))
        << s.message;
    EXPECT_LT(s.simulated, 2s) << "the seed ends at the failure, not at its budget";
  }
}

// ---- guards ----------------------------------------------------------------------------------

Task<void> forever(WorkloadContext& ctx) {
  for (;;) co_await ctx.providers().time().sleep(1s);
}

TEST(RunnerTest, SimTimeBudgetFailsAHungSeedAndTheRunGoesOn) {
  SimulationBuilder builder("budget");
  builder.workload(Workload{.name = "spinner", .run = forever})
      .guards(Guards{.simTimeBudget = 30s})
      .iterations(2);
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 2u);
  for (const SeedResult& s : report.seeds) {
    EXPECT_EQ(s.failure, SeedFailure::kSimTimeBudget);
    EXPECT_TRUE(has(s.message, "simulated-time budget exceeded")) << s.message;
    EXPECT_TRUE(has(s.message, "workloads still running: spinner")) << s.message;
    EXPECT_TRUE(has(s.message, "awaiting a sleep")) << s.message;  // the task list
    EXPECT_EQ(s.simulated, 30s);
  }
}

struct Stuck {
  Event never;
};

Task<void> deadlockOnEven(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(2s);
  if (ctx.seed() % 2 == 0) co_await ctx.state<Stuck>().never.wait();
}

TEST(RunnerTest, DeadlockIsReportedAndTheNextSeedRuns) {
  SimulationBuilder builder("deadlock");
  builder.workload(Workload{.name = "w", .run = deadlockOnEven}).seeds({2, 3});
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 2u);
  EXPECT_EQ(report.seeds[0].failure, SeedFailure::kDeadlock);
  EXPECT_TRUE(has(report.seeds[0].message, "deadlock at")) << report.seeds[0].message;
  EXPECT_TRUE(has(report.seeds[0].message, "awaiting an event")) << report.seeds[0].message;
  // Found within one watchdog interval, not at the budget.
  EXPECT_LE(report.seeds[0].simulated, 4s);
  EXPECT_EQ(report.seeds[1].verdict, SeedVerdict::kPass) << report.seeds[1].message;
}

// ---- isolation -------------------------------------------------------------------------------

struct Counted {
  int runs = 0;
};

// Per-seed state must be fresh: a second run() in the same state would see runs == 1. Seed 9
// also breaks an invariant, which must not leak into the seeds after it.
Task<void> isolatedRun(WorkloadContext& ctx) {
  Counted& counted = ctx.state<Counted>();
  MOONPOOL_CHECK_EQ(counted.runs, 0, "per-seed state leaked from another seed");
  ++counted.runs;
  RandomProvider& random = ctx.providers().random();
  for (int i = 0; i < 20; ++i) {
    co_await ctx.providers().time().sleep(random.durationBetween(1ms, 50ms));
    ctx.addMetric("draws", static_cast<std::int64_t>(random.below(1000)));
  }
  MOONPOOL_ALWAYS(ctx.seed() != 9, "seed nine is planted to fail");
}

TEST(RunnerTest, SeedsAreIsolated) {
  setFailurePrinting(FailurePrinting::kOff);
  SimulationBuilder builder("isolation");
  builder.processes(2, "idle", [](ProcessContext& ctx) -> Task<void> {
    for (;;) co_await ctx.providers().time().sleep(100ms);
  });
  builder.workload(Workload{.name = "w", .run = isolatedRun})
      .chaos(ChaosOptions{.network = FaultProfile::kSwarm, .attrition = Attrition::kOn});
  builder.chaosDuration(20s);
  const RunReport alone = runSimulation(SimulationBuilder(builder).seeds({21}));
  const RunReport after = runSimulation(SimulationBuilder(builder).seeds({9, 5, 21}));
  ASSERT_EQ(after.seeds.size(), 3u);
  EXPECT_EQ(after.seeds[0].failure, SeedFailure::kAssertion);
  const SeedResult& a = alone.seeds.at(0);
  const SeedResult& b = after.seeds.at(2);
  EXPECT_EQ(a.verdict, SeedVerdict::kPass) << a.message;
  EXPECT_EQ(b.verdict, SeedVerdict::kPass) << b.message;
  EXPECT_EQ(a.decisionHash, b.decisionHash);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.randomCalls, b.randomCalls);
  EXPECT_EQ(a.simulated, b.simulated);
  EXPECT_EQ(a.metrics.at("draws").value, b.metrics.at("draws").value);
  EXPECT_EQ(a.faultCounts, b.faultCounts);
  EXPECT_EQ(a.config, b.config);
  setFailurePrinting(FailurePrinting::kFirstPerSite);
}

// ---- the counter service, chaos configuration, workers ---------------------------------------

TEST(RunnerTest, PlantedBugIsFoundWithAReproduction) {
  const RunReport report =
      runSimulation(runner_testing::counterBuilder({.ops = 20, .bugOneIn = 40}).iterations(20),
                    RunOptions{.command = "./counter_sim", .reproFlags = {"--bug_one_in=40"}});
  ASSERT_GT(report.failedCount(), 0u);
  ASSERT_GT(report.passedCount(), 0u);
  const SeedResult* first = report.firstFailure();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->failure, SeedFailure::kCheck);
  EXPECT_TRUE(has(first->message, "workload 'client': counter is ")) << first->message;
  EXPECT_EQ(report.reproduction(*first), "./counter_sim --seed=" + std::to_string(first->seed) +
                                             " --bug_one_in=40 --build=" + report.buildId);
  // Replaying that seed alone gives the same failure, the same run.
  const RunReport replay = runSimulation(
      runner_testing::counterBuilder({.ops = 20, .bugOneIn = 40}), RunOptions{.seed = first->seed});
  ASSERT_EQ(replay.seeds.size(), 1u);
  EXPECT_EQ(replay.seeds[0].message, first->message);
  EXPECT_EQ(replay.seeds[0].decisionHash, first->decisionHash);
  EXPECT_EQ(replay.coverage, CoverageContracts::kReportOnly);
}

TEST(RunnerTest, SwarmConfigurationIsPerSeedAndUncounted) {
  ChaosOptions swarm{.network = FaultProfile::kSwarm,
                     .storage = FaultProfile::kSwarm,
                     .attrition = Attrition::kSwarm};
  SimulationBuilder quiet("swarm");
  quiet.workload(Workload{.name = "w", .run = isolatedRun}).iterations(8);
  const RunReport swarmed = runSimulation(SimulationBuilder(quiet).chaos(swarm));
  const RunReport plain = runSimulation(quiet);
  std::set<std::string> configs;
  for (std::size_t i = 0; i < swarmed.seeds.size(); ++i) {
    configs.insert(swarmed.seeds[i].config);
    // No chaos phase and no network use: the derived configuration must not have moved the
    // counted main stream (it is drawn from the "swarm" stream).
    EXPECT_EQ(swarmed.seeds[i].randomCalls, plain.seeds[i].randomCalls);
    EXPECT_EQ(swarmed.seeds[i].metrics.at("draws").value, plain.seeds[i].metrics.at("draws").value);
  }
  EXPECT_GT(configs.size(), 4u) << "swarm varies the configuration by seed";
  const std::string& config = swarmed.seeds[0].config;
  EXPECT_TRUE(has(config, "network: ") && has(config, "storage: ") && has(config, "attrition: "))
      << config;
}

TEST(RunnerTest, ForkedWorkersGiveTheSameVerdicts) {
  auto builder = [] {
    return runner_testing::counterBuilder({.ops = 10, .bugOneIn = 30}).iterations(12);
  };
  resetAssertionTable();
  const RunReport one = runSimulation(builder(), RunOptions{.jobs = 1});
  const AssertionReport oneAssertions = one.assertions;
  resetAssertionTable();
  const RunReport two = runSimulation(builder(), RunOptions{.jobs = 3});
  ASSERT_EQ(one.seeds.size(), 12u);
  ASSERT_EQ(two.seeds.size(), 12u);
  for (std::size_t i = 0; i < one.seeds.size(); ++i) {
    EXPECT_EQ(one.seeds[i].seed, two.seeds[i].seed);
    EXPECT_EQ(one.seeds[i].verdict, two.seeds[i].verdict) << "seed " << one.seeds[i].seed;
    EXPECT_EQ(one.seeds[i].message, two.seeds[i].message);
    EXPECT_EQ(one.seeds[i].decisionHash, two.seeds[i].decisionHash);
  }
  EXPECT_EQ(two.jobs, 3u);
  // Shared counters: the workers' assertion hits add up to the single-process run's.
  ASSERT_EQ(oneAssertions.sites.size(), two.assertions.sites.size());
  for (std::size_t i = 0; i < oneAssertions.sites.size(); ++i) {
    EXPECT_EQ(oneAssertions.sites[i].hits, two.assertions.sites[i].hits)
        << oneAssertions.sites[i].message;
  }
}

Task<void> crashOnSeedSeven(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  if (ctx.seed() == 7) std::abort();  // a crash: only survivable in a forked worker
}

TEST(RunnerTest, AWorkerCrashFailsItsSeedOnly) {
  SimulationBuilder builder("crash");
  builder.workload(Workload{.name = "w", .run = crashOnSeedSeven}).firstSeed(5).iterations(6);
  const RunReport report = runSimulation(builder, RunOptions{.jobs = 2});
  ASSERT_EQ(report.seeds.size(), 6u);
  EXPECT_EQ(report.failedCount(), 1u);
  const SeedResult* crashed = report.firstFailure();
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->seed, 7u);
  EXPECT_EQ(crashed->failure, SeedFailure::kCrashed);
  EXPECT_TRUE(has(crashed->message, "killed by signal 6")) << crashed->message;
  EXPECT_TRUE(has(report.stopReason, "worker 0")) << report.stopReason;
}

TEST(RunnerTest, GtestHelperPassesAGoodSimulation) {
  const RunReport report =
      expectSimulationPasses(runner_testing::counterBuilder({.ops = 10}).iterations(5));
  EXPECT_EQ(report.passedCount(), 5u);
  EXPECT_TRUE(
      has(report.reproTemplate, "--gtest_filter=RunnerTest.GtestHelperPassesAGoodSimulation"))
      << report.reproTemplate;
}

}  // namespace
}  // namespace moonpool
