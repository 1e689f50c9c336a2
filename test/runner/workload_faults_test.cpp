// Goal: a workload injects targeted faults (WorkloadContext::faults(), sim/targeted_faults.h)
// at the moment it chooses, on processes and links it names; they show in the seed's fault
// summary next to their effects, mix with random attrition, replay exactly for a seed (also
// in forked workers), and whatever a run() leaves broken (a killed process, a partition) is
// repaired before the checks. A bad name fails the seed with a clear workload error.
// Method: two idle service processes and a "nemesis" workload driving faults; runSimulation()
// in-process, reading SeedResults.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::uint64_t countOf(const SeedResult& seed, const std::string& kind) {
  auto it = seed.faultCounts.find(kind);
  return it == seed.faultCounts.end() ? 0 : it->second;
}

Task<void> idle(ProcessContext& ctx) {
  for (;;) co_await ctx.providers().time().sleep(1s);
}

// During the chaos phase: reboot svc-1 (crash), kill svc-2 (graceful, no restart), cut the
// link between svc-1 and the nemesis one way, clog svc-2.
Task<void> nemesis(WorkloadContext& ctx) {
  TargetedFaults& faults = ctx.faults();
  TimeProvider& time = ctx.providers().time();
  co_await time.sleep(1s);
  faults.reboot("svc-1", RebootKind::kCrash, 500ms);
  faults.kill("svc-2", RebootKind::kGraceful);
  faults.partitionLink("nemesis", "svc-1", Direction::kOutgoing);
  co_await time.sleep(100ms);
  ctx.maxMetric("svc1_down", ctx.process().peer("svc-1")->state == ProcessState::kDead ? 1 : 0);
  co_await time.sleep(1s);
  ctx.maxMetric("svc1_back", ctx.process().peer("svc-1")->state == ProcessState::kRunning);
  faults.clogProcess("svc-2", 200ms);
  co_await ctx.chaosOver().wait();
}

// Every service process is running again, rebooted at least once.
Task<CheckResult> allBack(WorkloadContext& ctx) {
  for (const char* name : {"svc-1", "svc-2"}) {
    const ProcessInfo info = *ctx.process().peer(name);
    if (info.state != ProcessState::kRunning || info.incarnation < 2) {
      co_return CheckResult::fail(std::string(name) + " is " +
                                  std::string(processStateName(info.state)) + ", incarnation " +
                                  std::to_string(info.incarnation));
    }
  }
  co_return CheckResult::pass();
}

SimulationBuilder nemesisBuilder(Attrition attrition) {
  SimulationBuilder builder("nemesis");
  AttritionOptions random;
  random.deadMax = 2;
  random.interval = {300ms, 900ms};
  random.recovery = {100ms, 300ms};
  random.pauseProbability = Probability{0};
  builder.processes(2, "svc", idle)
      .workload(Workload{.name = "nemesis", .run = nemesis, .check = allBack})
      .chaos(ChaosOptions{.attrition = attrition, .attritionOptions = random})
      .chaosDuration(5s)
      .settleDuration(1s)
      .seeds({11, 12, 13});
  return builder;
}

TEST(WorkloadFaults, AWorkloadKillsRebootsAndCutsNamedProcessesAtItsChosenMoment) {
  const RunReport report = runSimulation(nemesisBuilder(Attrition::kOff));
  ASSERT_EQ(report.seeds.size(), 3u);
  for (const SeedResult& s : report.seeds) {
    ASSERT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
    EXPECT_EQ(s.metrics.at("svc1_down").value, 1);
    EXPECT_EQ(s.metrics.at("svc1_back").value, 1);
    EXPECT_EQ(countOf(s, "targeted.reboot"), 1u);
    EXPECT_EQ(countOf(s, "process.crash"), 1u);
    EXPECT_EQ(countOf(s, "targeted.kill"), 1u);
    EXPECT_EQ(countOf(s, "process.graceful"), 1u);
    EXPECT_EQ(countOf(s, "targeted.partition"), 1u);
    EXPECT_EQ(countOf(s, "net.partition"), 1u);
    EXPECT_EQ(countOf(s, "targeted.clog"), 1u);
    EXPECT_EQ(countOf(s, "net.clog_interface"), 1u);
    // The runner's settle healed the partition and brought the killed svc-2 back.
    EXPECT_EQ(countOf(s, "net.heal_all"), 1u);
    EXPECT_EQ(countOf(s, "targeted.restart"), 1u);
    EXPECT_EQ(countOf(s, "process.restart"), 2u);
  }
  // The fault summary of the run carries them too.
  EXPECT_EQ(report.faultCounts.at("targeted.kill"), 3u);
}

TEST(WorkloadFaults, TargetedFaultsMixWithAttritionAndReplayExactly) {
  const RunReport first = runSimulation(nemesisBuilder(Attrition::kOn));
  const RunReport again = runSimulation(nemesisBuilder(Attrition::kOn));
  const RunReport forked = runSimulation(nemesisBuilder(Attrition::kOn), RunOptions{.jobs = 2});
  ASSERT_EQ(first.seeds.size(), 3u);
  ASSERT_EQ(again.seeds.size(), 3u);
  ASSERT_EQ(forked.seeds.size(), 3u);
  std::uint64_t randomReboots = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const SeedResult& s = first.seeds[i];
    EXPECT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
    EXPECT_EQ(s.decisionHash, again.seeds[i].decisionHash);
    EXPECT_EQ(s.faultCounts, again.seeds[i].faultCounts);
    EXPECT_EQ(s.decisionHash, forked.seeds[i].decisionHash);
    EXPECT_EQ(countOf(s, "targeted.reboot"), 1u);
    randomReboots += countOf(s, "process.restart") - 2;  // two restarts are the nemesis's
  }
  EXPECT_GT(randomReboots, 0u) << "attrition rebooted processes next to the targeted faults";
}

// No chaos phase: the faults come after chaosOver, and the run returns with them in place.
Task<void> breakAndLeave(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  ctx.faults().kill("svc-2", RebootKind::kCrashAndWipe);
  ctx.faults().isolate("svc-1", Direction::kBoth);
}

Task<CheckResult> svc2Back(WorkloadContext& ctx) {
  const ProcessInfo info = *ctx.process().peer("svc-2");
  if (info.state == ProcessState::kRunning && info.incarnation == 2) co_return CheckResult::pass();
  co_return CheckResult::fail("svc-2 is " + std::string(processStateName(info.state)));
}

TEST(WorkloadFaults, WhatARunLeavesBrokenIsRepairedBeforeTheChecks) {
  SimulationBuilder builder("leftovers");
  builder.processes(2, "svc", idle)
      .workload(Workload{.name = "breaker", .run = breakAndLeave, .check = svc2Back})
      .iterations(2);
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 2u);
  for (const SeedResult& s : report.seeds) {
    EXPECT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
    EXPECT_EQ(countOf(s, "process.crash-and-wipe"), 1u);
    EXPECT_EQ(countOf(s, "targeted.restart"), 1u);
    EXPECT_EQ(countOf(s, "net.heal_all"), 1u);
  }
}

Task<void> typo(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  ctx.faults().reboot("svc-9", RebootKind::kCrash, 1s);
}

Task<void> killsItself(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  ctx.faults().kill(ctx.name(), RebootKind::kCrash);
}

TEST(WorkloadFaults, ABadTargetFailsTheSeedWithAClearWorkloadError) {
  SimulationBuilder builder("typo");
  builder.processes(1, "svc", idle).workload(Workload{.name = "w", .run = typo}).seeds({1});
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 1u);
  EXPECT_EQ(report.seeds[0].failure, SeedFailure::kWorkloadError);
  EXPECT_TRUE(has(report.seeds[0].message,
                  "workload 'w' run() threw: failed: targeted fault: no process named 'svc-9' "
                  "(processes: svc-1, w)"))
      << report.seeds[0].message;
  SimulationBuilder self("self");
  self.processes(1, "svc", idle).workload(Workload{.name = "w", .run = killsItself}).seeds({1});
  const RunReport selfReport = runSimulation(self);
  EXPECT_TRUE(has(selfReport.seeds[0].message, "cannot kill 'w': it is a Reboot::kNever process"))
      << selfReport.seeds[0].message;
}

}  // namespace
}  // namespace moonpool
