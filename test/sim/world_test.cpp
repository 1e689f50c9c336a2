// Goal: simulated processes are real units: killing one leaves none of its tasks running,
// reboots re-create it from its spec (new incarnation), returning from main is an exit,
// graceful shutdown gives it a chance to finish (then force-kills), pause freezes it, each
// has its own drifting clock, and buggify sites activate per run and are reported.
// Method: small process mains that record what they observe into test-owned structs; the
// driver (root group) steers the world and checks the records.
#include <gtest/gtest.h>

#include <set>

#include "world_testing.h"

namespace moonpool {
namespace {

using namespace world_testing;
using namespace std::chrono_literals;

// Counts live coroutine frames that hold one.
struct FrameCounter {
  int live = 0;
};
struct FrameToken {
  explicit FrameToken(FrameCounter* c) : counter(c) { ++counter->live; }
  FrameToken(const FrameToken&) = delete;
  FrameToken& operator=(const FrameToken&) = delete;
  ~FrameToken() { --counter->live; }
  FrameCounter* counter;
};

Task<void> sleepForever(TimeProvider& time, FrameCounter* counter) {
  FrameToken token(counter);
  co_await time.sleep(std::chrono::hours(24 * 365));
}

Task<void> spawner(ProcessContext& context, FrameCounter* counter) {
  Providers p = context.providers();
  for (int i = 0; i < 5; ++i) {
    p.tasks().spawn("child " + std::to_string(i), sleepForever(p.time(), counter)).detach();
  }
  co_await sleepForever(p.time(), counter);
}

Task<void> killLater(SimWorld* world, ProcessId id, std::size_t* tasksBefore,
                     std::size_t* tasksAfter) {
  co_await world->rootProviders().time().sleep(1s);
  *tasksBefore = world->liveTasks(id);
  world->kill(id, RebootKind::kCrash);
  *tasksAfter = world->liveTasks(id);
  co_await world->rootProviders().time().sleep(1s);
}

TEST(World, KillingAProcessLeavesNoTaskOfItRunning) {
  Simulation sim(SimOptions{.seed = 3});
  SimWorld world(sim, WorldOptions::quiet());
  FrameCounter counter;
  ProcessId id = world.addProcess(ProcessSpec{
      .name = "busy", .main = bindTask(spawner, &counter)});
  std::size_t before = 0, after = 99;
  ASSERT_TRUE(sim.run(killLater(&world, id, &before, &after)).ok());
  EXPECT_EQ(before, 6u);  // main + 5 children
  EXPECT_EQ(after, 0u);
  EXPECT_EQ(counter.live, 0);
  EXPECT_EQ(world.info(id).state, ProcessState::kDead);
  EXPECT_EQ(sim.executor().liveTasks(), 0u);
}

Task<void> recordIncarnation(ProcessContext& context, std::vector<std::uint64_t>* seen) {
  seen->push_back(context.incarnation());
  co_await context.providers().time().sleep(std::chrono::hours(1));
}

Task<void> rebootTwice(SimWorld* world, ProcessId id) {
  TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(1s);
  world->reboot(id, RebootKind::kCrash, 2s);
  co_await time.sleep(1s);
  EXPECT_EQ(world->info(id).state, ProcessState::kDead);
  co_await time.sleep(2s);
  EXPECT_EQ(world->info(id).state, ProcessState::kRunning);
  world->reboot(id, RebootKind::kCrashAndWipe, 1s);
  co_await world->allRunning();
}

TEST(World, RebootRecreatesTheProcessFromItsSpec) {
  Simulation sim(SimOptions{.seed = 4});
  SimWorld world(sim, WorldOptions::quiet());
  std::vector<std::uint64_t> seen;
  ProcessId id = world.addProcess(ProcessSpec{
      .name = "phoenix", .main = bindTask(recordIncarnation, &seen)});
  ASSERT_TRUE(sim.run(rebootTwice(&world, id)).ok());
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3}));
  const auto& counts = world.timeline().faultCounts();
  EXPECT_EQ(counts.at("process.crash"), 1u);
  EXPECT_EQ(counts.at("process.crash-and-wipe"), 1u);
  EXPECT_EQ(counts.at("process.restart"), 2u);
}

Task<void> exitEarly(ProcessContext& context, FrameCounter* counter) {
  Providers p = context.providers();
  p.tasks().spawn("orphan", sleepForever(p.time(), counter)).detach();
  co_await p.time().sleep(1s);
}

Task<void> waitABit(SimWorld* world) { co_await world->rootProviders().time().sleep(5s); }

TEST(World, ReturningFromMainIsAnExitThatEndsEveryTask) {
  Simulation sim(SimOptions{.seed = 5});
  SimWorld world(sim, WorldOptions::quiet());
  FrameCounter counter;
  ProcessId id = world.addProcess(ProcessSpec{
      .name = "short", .main = bindTask(exitEarly, &counter)});
  ASSERT_TRUE(sim.run(waitABit(&world)).ok());
  EXPECT_EQ(world.info(id).state, ProcessState::kDead);
  EXPECT_EQ(counter.live, 0);
}

Task<void> politeServer(ProcessContext& context, std::vector<std::string>* log) {
  co_await context.shutdownRequested().wait();
  log->push_back("shutting down at incarnation " + std::to_string(context.incarnation()));
}

Task<void> stubbornServer(ProcessContext& context, std::vector<std::string>* log) {
  co_await context.shutdownRequested().wait();
  log->push_back("ignoring the shutdown");
  co_await context.providers().time().sleep(std::chrono::hours(1));
  log->push_back("never printed");
}

Task<void> gracefulBoth(SimWorld* world, ProcessId polite, ProcessId stubborn) {
  co_await world->rootProviders().time().sleep(1s);
  world->kill(polite, RebootKind::kGraceful);
  world->kill(stubborn, RebootKind::kGraceful);
  EXPECT_EQ(world->info(stubborn).state, ProcessState::kStopping);
  co_await world->rootProviders().time().sleep(10s);
}

TEST(World, GracefulShutdownLetsAProcessFinishThenForceKillsStragglers) {
  Simulation sim(SimOptions{.seed = 6});
  SimWorld world(sim, WorldOptions::quiet());
  std::vector<std::string> politeLog, stubbornLog;
  ProcessId polite = world.addProcess(ProcessSpec{
      .name = "polite", .main = bindTask(politeServer, &politeLog)});
  ProcessId stubborn = world.addProcess(ProcessSpec{
      .name = "stubborn",
      .main = bindTask(stubbornServer, &stubbornLog)});
  ASSERT_TRUE(sim.run(gracefulBoth(&world, polite, stubborn)).ok());
  EXPECT_EQ(politeLog, std::vector<std::string>{"shutting down at incarnation 1"});
  EXPECT_EQ(stubbornLog, std::vector<std::string>{"ignoring the shutdown"});
  EXPECT_EQ(world.info(polite).state, ProcessState::kDead);
  EXPECT_EQ(world.info(stubborn).state, ProcessState::kDead);
  EXPECT_EQ(world.timeline().faultCounts().at("process.force_kill"), 1u);
}

Task<void> ticker(ProcessContext& context, std::vector<TimePoint>* ticks, SimExecutor* executor) {
  for (;;) {
    co_await context.providers().time().sleep(100ms);
    ticks->push_back(executor->now());
  }
}

Task<void> pauseWindow(SimWorld* world, ProcessId id) {
  TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(1s);
  world->pause(id);
  co_await time.sleep(2s);
  world->resume(id);
  co_await time.sleep(1s);
}

TEST(World, APausedProcessMakesNoProgressAndItsTimersFireLate) {
  Simulation sim(SimOptions{.seed = 8});
  SimWorld world(sim, WorldOptions::quiet());
  std::vector<TimePoint> ticks;
  SimExecutor* executor = &sim.executor();
  ProcessId id = world.addProcess(ProcessSpec{
      .name = "ticker",
      .main = bindTask(ticker, &ticks, executor)});
  ASSERT_TRUE(sim.run(pauseWindow(&world, id)).ok());
  const TimePoint pausedAt(1s), resumedAt(3s);
  bool lateTick = false;
  for (TimePoint t : ticks) {
    EXPECT_FALSE(t > pausedAt && t < resumedAt) << "a tick ran while paused at " << formatTime(t);
    if (t == resumedAt) lateTick = true;
  }
  EXPECT_TRUE(lateTick) << "the timer due during the pause fires at the resume";
  EXPECT_GT(ticks.size(), 15u);
}

Task<void> readClock(ProcessContext& context, std::vector<std::pair<TimePoint, Duration>>* out) {
  TimeProvider& time = context.providers().time();
  const TimePoint start = time.now();
  co_await time.sleep(10s);
  out->push_back({start, time.now() - start});
}

TEST(World, EachProcessHasItsOwnDriftingClock) {
  Simulation sim(SimOptions{.seed = 9});
  WorldOptions options = WorldOptions::quiet();
  options.clock = ClockDriftOptions{.offsetMax = 500ms, .ppmMax = 1000};
  SimWorld world(sim, options);
  std::vector<std::pair<TimePoint, Duration>> clocks;
  for (int i = 0; i < 4; ++i) {
    world.addProcess(ProcessSpec{.name = "p" + std::to_string(i),
                                 .main = bindTask(readClock, &clocks)});
  }
  ASSERT_TRUE(sim.run(waitABit(&world)).ok());
  ASSERT_TRUE(sim.run(waitABit(&world)).ok());
  ASSERT_TRUE(sim.run(waitABit(&world)).ok());
  ASSERT_EQ(clocks.size(), 4u);
  std::set<TimePoint> starts;
  for (const auto& [start, slept] : clocks) {
    starts.insert(start);
    EXPECT_GE(slept, 10s) << "a process's sleep lasts at least as long on its own clock";
    EXPECT_LE(slept, 10s + 20ms);
  }
  EXPECT_GT(starts.size(), 1u) << "offsets differ between processes";
}

Task<void> buggifyLoop(std::vector<int>* fired) {
  int count = 0;
  for (int i = 0; i < 1000; ++i) {
    if (buggify()) ++count;
  }
  fired->push_back(count);
  co_return;
}

TEST(World, BuggifySitesActivatePerRunAndAreReported) {
  int activeRuns = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Simulation sim(SimOptions{.seed = seed});
    WorldOptions options = WorldOptions::quiet();
    options.buggify.mode = BuggifyOptions::Mode::kOn;
    SimWorld world(sim, options);
    std::vector<int> fired;
    ASSERT_TRUE(sim.run(buggifyLoop(&fired)).ok());
    auto sites = world.buggifySites();
    ASSERT_EQ(sites.size(), 1u);
    EXPECT_EQ(sites[0].evaluated, 1000u);
    EXPECT_NE(sites[0].file.find("world_test.cpp"), std::string::npos);
    if (sites[0].active) {
      ++activeRuns;
      EXPECT_EQ(sites[0].fired, static_cast<std::uint64_t>(fired[0]));
      EXPECT_GT(fired[0], 150);  // 25% of 1000
      EXPECT_LT(fired[0], 350);
    } else {
      EXPECT_EQ(fired[0], 0);
    }
  }
  EXPECT_GT(activeRuns, 3);
  EXPECT_LT(activeRuns, 17);
}

TEST(World, BuggifyIsOffWithoutAWorldAndWhenSwitchedOff) {
  Simulation sim(SimOptions{.seed = 1});
  std::vector<int> fired;
  ASSERT_TRUE(sim.run(buggifyLoop(&fired)).ok());
  EXPECT_EQ(fired, std::vector<int>{0});
  SimWorld world(sim, WorldOptions::quiet());  // Mode::kOff
  ASSERT_TRUE(sim.run(buggifyLoop(&fired)).ok());
  EXPECT_EQ(fired, (std::vector<int>{0, 0}));
  EXPECT_EQ(buggifyKnob(10, 1, 1000), 10);
}

Task<void> writeTwoFiles(ProcessContext& context, int* phase) {
  StorageProvider& disk = context.providers().storage();
  if (context.incarnation() == 1) {
    auto synced = (co_await disk.open("synced", OpenMode::kCreateTruncate)).orThrow();
    (co_await synced->write(0, asBytes("durable"))).orThrow();
    (co_await synced->sync()).orThrow();
    auto unsynced = (co_await disk.open("unsynced", OpenMode::kCreateTruncate)).orThrow();
    (co_await unsynced->sync()).orThrow();  // the empty file exists durably
    (co_await unsynced->write(0, asBytes("volatile"))).orThrow();
    *phase = 1;
    co_await context.providers().time().sleep(std::chrono::hours(1));
  }
  auto synced = (co_await disk.open("synced", OpenMode::kOpenExisting)).orThrow();
  std::byte buffer[16];
  std::size_t n = (co_await synced->read(0, buffer)).orThrow();
  EXPECT_EQ(text(std::span(buffer, n)), "durable");
  auto unsynced = (co_await disk.open("unsynced", OpenMode::kOpenExisting)).orThrow();
  n = (co_await unsynced->read(0, buffer)).orThrow();
  EXPECT_NE(text(std::span(buffer, n)), "volatile");
  *phase = 2;
}

Task<void> crashAfterWrites(SimWorld* world, ProcessId id, int* phase) {
  while (*phase != 1) co_await world->rootProviders().time().sleep(10ms);
  world->reboot(id, RebootKind::kCrash, 1s);
  while (*phase != 2) co_await world->rootProviders().time().sleep(10ms);
}

TEST(World, ACrashLosesUnsyncedWritesAndKeepsSyncedOnes) {
  Simulation sim(SimOptions{.seed = 12});
  WorldOptions options = WorldOptions::quiet();
  options.storage.faults.crashTear = Probability{0};
  SimWorld world(sim, options);
  int phase = 0;
  ProcessId id = world.addProcess(ProcessSpec{
      .name = "writer", .main = bindTask(writeTwoFiles, &phase)});
  RunOutcome outcome = sim.run(crashAfterWrites(&world, id, &phase));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(phase, 2);
}

}  // namespace
}  // namespace moonpool
