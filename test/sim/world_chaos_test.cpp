// Goal: attrition reboots and pauses processes within its bounds (never more than deadMax
// down, never a Reboot::kNever process), everything comes back with allRunning(), the same
// seed gives the same fault timeline, and swarm/chaotic configurations come from derived
// streams that never shift the counted main stream.
// Method: five servers and one protected client process under attrition for ten simulated
// minutes, with a monitor task sampling how many are down.
#include <gtest/gtest.h>

#include "world_testing.h"

namespace moonpool {
namespace {

using namespace world_testing;
using namespace std::chrono_literals;

Task<void> idle(ProcessContext& context) {
  co_await context.providers().time().sleep(std::chrono::hours(24));
}

Task<void> monitor(SimWorld* world, std::size_t* downMax, TimePoint until) {
  while (world->simulation().executor().now() < until) {
    *downMax = std::max(*downMax, world->deadCount());
    co_await world->simulation().executor().sleep(10ms);
  }
}

Task<void> chaosPhase(SimWorld* world, AttritionOptions options, std::size_t* downMax) {
  const TimePoint until(600s);
  co_await whenAll(world->attrition(options, until), monitor(world, downMax, until));
  co_await world->allRunning();
}

struct Outcome {
  std::size_t downMax = 0;
  std::vector<std::string> timeline;
  std::vector<ProcessInfo> processes;
  RunOutcome run;
};

Outcome runAttrition(std::uint64_t seed, AttritionOptions options) {
  Simulation sim(SimOptions{.seed = seed});
  SimWorld world(sim, WorldOptions::quiet());
  for (int i = 0; i < 5; ++i) {
    world.addProcess(ProcessSpec{.name = "server-" + std::to_string(i), .main = idle});
  }
  world.addProcess(
      ProcessSpec{.name = "client", .main = idle, .reboot = ProcessSpec::Reboot::kNever});
  Outcome out;
  out.run = sim.run(chaosPhase(&world, options, &out.downMax));
  for (const auto& event : world.timeline().events()) out.timeline.push_back(event.toString());
  out.processes = world.processes();
  return out;
}

TEST(WorldChaos, AttritionRebootsWithinItsBoundsAndEverythingComesBack) {
  AttritionOptions options;
  options.deadMax = 2;
  Outcome out = runAttrition(21, options);
  ASSERT_TRUE(out.run.ok()) << out.run.message;
  EXPECT_LE(out.downMax, 2u);
  EXPECT_GE(out.downMax, 1u);
  std::size_t reboots = 0;
  for (const auto& info : out.processes) {
    EXPECT_EQ(info.state, ProcessState::kRunning) << info.name;
    if (info.name == "client") {
      EXPECT_EQ(info.incarnation, 1u) << "a Reboot::kNever process is never rebooted";
    } else {
      reboots += info.incarnation - 1;
    }
  }
  EXPECT_GT(reboots, 10u);
  bool paused = false;
  for (const auto& line : out.timeline) paused |= line.find("process.pause") != std::string::npos;
  EXPECT_TRUE(paused);
}

TEST(WorldChaos, DeadMaxZeroOnlyPauses) {
  AttritionOptions options;
  options.deadMax = 0;
  Outcome out = runAttrition(22, options);
  ASSERT_TRUE(out.run.ok()) << out.run.message;
  EXPECT_EQ(out.downMax, 0u);
  for (const auto& info : out.processes) EXPECT_EQ(info.incarnation, 1u);
}

TEST(WorldChaos, SameSeedSameFaultTimeline) {
  AttritionOptions options;
  options.deadMax = 3;
  Outcome a = runAttrition(5, options);
  Outcome b = runAttrition(5, options);
  Outcome c = runAttrition(6, options);
  ASSERT_FALSE(a.timeline.empty());
  EXPECT_EQ(a.timeline, b.timeline);
  EXPECT_EQ(a.run.decisionHash, b.run.decisionHash);
  EXPECT_NE(a.timeline, c.timeline);
}

TEST(WorldChaos, ConfigurationsComeFromDerivedStreamsNotTheMainOne) {
  Simulation sim(SimOptions{.seed = 77});
  const std::uint64_t before = sim.random().callCount();
  RandomStream config = sim.random().derive("swarm");
  NetworkOptions chaotic = NetworkOptions::chaotic(config);
  NetworkOptions swarm = chaotic.swarm(config);
  StorageOptions storage = StorageOptions::chaotic(config).swarm(config);
  EXPECT_EQ(sim.random().callCount(), before);
  EXPECT_FALSE(chaotic.toString().empty());
  EXPECT_FALSE(storage.toString().empty());
  // Swarm switches whole families off: over many draws, each family is sometimes off.
  int clogOff = 0, flipOff = 0;
  for (std::uint64_t i = 0; i < 64; ++i) {
    RandomStream s(i);
    NetworkOptions o = NetworkOptions::chaotic(s).swarm(s);
    clogOff += o.faults.clogProbability == Probability{};
    flipOff += o.faults.bitFlipProbability == Probability{};
  }
  EXPECT_GT(clogOff, 10);
  EXPECT_LT(clogOff, 54);
  EXPECT_GT(flipOff, 10);
  EXPECT_LT(flipOff, 54);
  (void)swarm;
}

}  // namespace
}  // namespace moonpool
