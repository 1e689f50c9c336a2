// Goal: every targeted fault (sim/targeted_faults.h) does what the world's own fault does, at
// the moment the test chooses, on the process or link it names: kill, each reboot kind
// (graceful, a graceful one that outlasts its grace, crash, crash-and-wipe), pause, a
// partition of a link or of a process in either direction, a clog for a duration, and heal.
// Every call is recorded in the timeline next to its effect; a bad name or argument is an
// error that says what is wrong; the same seed with the same targeted faults (and random
// attrition next to them) replays exactly.
// Method: a world of two processes, a sender "a" writing one byte every 10 ms to a sink "b"
// that records each byte's arrival time, plus a disk process that logs what it finds on its
// disk at each boot; a driver task on the root providers injects the faults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "moonpool/sim/targeted_faults.h"
#include "world_testing.h"

namespace moonpool {
namespace {

using namespace world_testing;
using namespace std::chrono_literals;

constexpr std::uint16_t kPort = 7000;
constexpr Duration kTick = 10ms;

struct Arrivals {
  std::vector<TimePoint> times;
  // Arrivals in [from, to).
  std::size_t between(TimePoint from, TimePoint to) const {
    std::size_t n = 0;
    for (TimePoint t : times) n += (t >= from && t < to) ? 1 : 0;
    return n;
  }
};

Task<void> sinkConnection(std::unique_ptr<Connection> connection, Arrivals* out,
                          SimExecutor* executor) {
  std::byte buffer[256];
  for (;;) {
    IoResult<std::size_t> got = co_await connection->read(buffer);
    if (!got.ok() || *got == 0) co_return;
    for (std::size_t i = 0; i < *got; ++i) out->times.push_back(executor->now());
  }
}

Task<void> sink(ProcessContext& context, Arrivals* out, SimExecutor* executor) {
  Providers p = context.providers();
  auto listener = p.network().listen(NetAddress{IpAddress(), kPort}, 16).orThrow();
  for (;;) {
    auto connection = (co_await listener->accept()).orThrow();
    p.tasks().spawn("sink", sinkConnection(std::move(connection), out, executor)).detach();
  }
}

Task<void> sender(ProcessContext& context) {
  Providers p = context.providers();
  const std::optional<ProcessInfo> b = context.peer("b");
  for (;;) {
    auto connection = co_await p.network().connect(NetAddress{b->ip, kPort});
    if (!connection.ok()) {
      co_await p.time().sleep(kTick);
      continue;
    }
    while ((co_await (*connection)->writeAll(asBytes("x"))).ok()) co_await p.time().sleep(kTick);
  }
}

// A world of "a" (sender) and "b" (sink), partitions never resetting connections.
struct Pair {
  explicit Pair(std::uint64_t seed = 31) : sim(SimOptions{.seed = seed}) {
    WorldOptions options = WorldOptions::quiet();
    options.network.faults.partitionResetProbability = Probability{0};
    world = std::make_unique<SimWorld>(sim, options);
    world->addProcess(ProcessSpec{.name = "a", .main = sender});
    world->addProcess(ProcessSpec{.name = "b", .main = bindTask(sink, &arrivals, &sim.executor())});
    faults = std::make_unique<TargetedFaults>(*world);
  }
  std::uint64_t count(std::string_view kind) const {
    auto it = world->timeline().faultCounts().find(kind);
    return it == world->timeline().faultCounts().end() ? 0 : it->second;
  }
  Simulation sim;
  Arrivals arrivals;
  std::unique_ptr<SimWorld> world;
  std::unique_ptr<TargetedFaults> faults;
};

// Sleeps until 1 s, applies `cut`, sleeps until 2 s, applies `heal`, runs until 3 s.
template <typename Cut, typename Heal>
Task<void> window(SimWorld* world, Cut cut, Heal heal) {
  SimExecutor& executor = world->simulation().executor();
  co_await executor.sleepUntil(TimePoint(1s));
  cut();
  co_await executor.sleepUntil(TimePoint(2s));
  heal();
  co_await executor.sleepUntil(TimePoint(3s));
}

constexpr TimePoint kCutAt(1s), kHealAt(2s), kEnd(3s);

TEST(TargetedFaults, APartitionedLinkDeliversNothingUntilHealed) {
  Pair w;
  TargetedFaults* f = w.faults.get();
  auto cut = [f] {
    EXPECT_EQ(f->partitionLink("a", "b", Direction::kBoth), FaultEffect::kApplied);
  };
  auto heal = [f] { EXPECT_EQ(f->healLink("a", "b"), FaultEffect::kApplied); };
  ASSERT_TRUE(w.sim.run(window(w.world.get(), cut, heal)).ok());
  EXPECT_GT(w.arrivals.between(TimePoint(500ms), kCutAt), 40u);
  EXPECT_EQ(w.arrivals.between(kCutAt + 5ms, kHealAt), 0u);
  // Held bytes arrive at the heal, and traffic goes on.
  EXPECT_GT(w.arrivals.between(kHealAt, kEnd), 150u);
  EXPECT_EQ(w.count("targeted.partition"), 1u);
  EXPECT_EQ(w.count("net.partition"), 2u);  // both directions
  EXPECT_EQ(w.count("targeted.heal"), 1u);
  EXPECT_EQ(w.count("net.heal"), 2u);
}

TEST(TargetedFaults, AOneWayPartitionCutsOnlyItsDirection) {
  // b -> a cut: a's bytes still reach b.
  Pair w;
  TargetedFaults* f = w.faults.get();
  auto cut = [f] { f->partitionLink("a", "b", Direction::kIncoming); };
  auto heal = [f] { f->healLink("a", "b"); };
  ASSERT_TRUE(w.sim.run(window(w.world.get(), cut, heal)).ok());
  EXPECT_GT(w.arrivals.between(kCutAt + 5ms, kHealAt), 80u);
  EXPECT_EQ(w.count("net.partition"), 1u);
  // a -> b cut: nothing arrives.
  Pair v;
  TargetedFaults* g = v.faults.get();
  auto cutOut = [g] { g->partitionLink("a", "b", Direction::kOutgoing); };
  auto healOut = [g] { g->heal("a"); };
  ASSERT_TRUE(v.sim.run(window(v.world.get(), cutOut, healOut)).ok());
  EXPECT_EQ(v.arrivals.between(kCutAt + 5ms, kHealAt), 0u);
  EXPECT_GT(v.arrivals.between(kHealAt, kEnd), 150u);
}

TEST(TargetedFaults, AnIsolatedProcessHearsNothingAndItsOutgoingSideIsSeparate) {
  Pair w;
  TargetedFaults* f = w.faults.get();
  auto cut = [f] { f->isolate("b", Direction::kIncoming); };
  auto heal = [f] { EXPECT_EQ(f->heal("b"), FaultEffect::kApplied); };
  ASSERT_TRUE(w.sim.run(window(w.world.get(), cut, heal)).ok());
  EXPECT_EQ(w.arrivals.between(kCutAt + 5ms, kHealAt), 0u);
  EXPECT_GT(w.arrivals.between(kHealAt, kEnd), 150u);
  // Cutting only what b sends leaves a -> b flowing.
  Pair v;
  TargetedFaults* g = v.faults.get();
  auto cutOut = [g] { g->isolate("b", Direction::kOutgoing); };
  auto healAll = [g] { EXPECT_EQ(g->healAll(), FaultEffect::kApplied); };
  ASSERT_TRUE(v.sim.run(window(v.world.get(), cutOut, healAll)).ok());
  EXPECT_GT(v.arrivals.between(kCutAt + 5ms, kHealAt), 80u);
  EXPECT_EQ(v.count("net.heal_all"), 1u);
}

TEST(TargetedFaults, AClogDelaysTheLinkForItsDurationOnly) {
  Pair w;
  TargetedFaults* f = w.faults.get();
  auto clog = [f] { f->clogLink("a", "b", 500ms, Direction::kOutgoing); };
  auto none = [] {};
  ASSERT_TRUE(w.sim.run(window(w.world.get(), clog, none)).ok());
  EXPECT_EQ(w.arrivals.between(kCutAt + 5ms, kCutAt + 500ms), 0u);
  EXPECT_GT(w.arrivals.between(kCutAt + 500ms, kHealAt), 40u);  // released, then flowing
  EXPECT_EQ(w.count("targeted.clog"), 1u);
  EXPECT_EQ(w.count("net.clog"), 1u);
  // A process clog holds every link of it.
  Pair v;
  TargetedFaults* g = v.faults.get();
  auto clogB = [g] { g->clogProcess("b", 300ms); };
  ASSERT_TRUE(v.sim.run(window(v.world.get(), clogB, none)).ok());
  EXPECT_EQ(v.arrivals.between(kCutAt + 5ms, kCutAt + 300ms), 0u);
  EXPECT_GT(v.arrivals.between(kCutAt + 300ms, kHealAt), 40u);
}

// ---- processes: what each reboot kind leaves on the disk -------------------------------------

struct DiskLog {
  std::vector<std::string> boots;  // the file's contents at each boot ("" when absent)
};

// At boot: logs the file, then writes "S" synced at 0 and "U" unsynced at 1. Graceful: it
// returns on shutdown, unless `stubborn`.
Task<void> diskProcess(ProcessContext& context, DiskLog* log, bool stubborn) {
  StorageProvider& disk = context.providers().storage();
  auto file = (co_await disk.open("f", OpenMode::kCreate)).orThrow();
  std::string bytes(2, '\0');
  const std::size_t got =
      (co_await file->read(0, std::as_writable_bytes(std::span(bytes)))).orThrow();
  log->boots.push_back(bytes.substr(0, got));
  (co_await file->write(0, asBytes("S"))).orThrow();
  (co_await file->sync()).orThrow();
  (co_await file->write(1, asBytes("U"))).orThrow();
  co_await context.shutdownRequested().wait();
  if (stubborn) co_await context.providers().time().sleep(std::chrono::hours(1));
}

struct RebootCase {
  RebootKind kind;
  bool stubborn;
  const char* secondBoot;  // what the second incarnation finds
  const char* effect;      // the timeline kind of the stop
};

Task<void> rebootAt(SimWorld* world, TargetedFaults* faults, RebootKind kind) {
  TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(1s);
  EXPECT_EQ(faults->reboot("disk", kind, 100ms), FaultEffect::kApplied);
  co_await world->allRunning();
  co_await time.sleep(1s);
}

TEST(TargetedFaults, EveryRebootKindLeavesTheDiskAsItsFaultModelSays) {
  const RebootCase cases[] = {
      {RebootKind::kGraceful, false, "SU", "process.graceful"},
      {RebootKind::kGraceful, true, "S", "process.force_kill"},  // outlasted its grace
      {RebootKind::kCrash, false, "S", "process.crash"},
      {RebootKind::kCrashAndWipe, false, "", "process.crash-and-wipe"},
  };
  for (const RebootCase& c : cases) {
    SCOPED_TRACE(std::string(rebootKindName(c.kind)) + (c.stubborn ? " (stubborn)" : ""));
    Simulation sim(SimOptions{.seed = 41});
    SimWorld world(sim, WorldOptions::quiet());
    TargetedFaults faults(world);
    DiskLog log;
    world.addProcess(ProcessSpec{.name = "disk", .main = bindTask(diskProcess, &log, c.stubborn)});
    ASSERT_TRUE(sim.run(rebootAt(&world, &faults, c.kind)).ok());
    EXPECT_EQ(log.boots, (std::vector<std::string>{"", c.secondBoot}));
    EXPECT_EQ(world.timeline().faultCounts().at(c.effect), 1u);
    EXPECT_EQ(world.timeline().faultCounts().at("targeted.reboot"), 1u);
    EXPECT_EQ(world.info(0).incarnation, 2u);
  }
}

Task<void> killPauseRestart(SimWorld* world, TargetedFaults* faults,
                            std::vector<FaultEffect>* out) {
  TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(1s);
  out->push_back(faults->pause("disk"));
  out->push_back(faults->pause("disk"));  // already paused
  out->push_back(faults->resume("disk"));
  out->push_back(faults->kill("disk", RebootKind::kCrash));
  out->push_back(faults->kill("disk", RebootKind::kCrash));  // already down
  co_await time.sleep(5s);
  EXPECT_EQ(world->info(0).state, ProcessState::kDead) << "a kill has no restart of its own";
  out->push_back(faults->restart("disk"));
  out->push_back(faults->restart("disk"));  // already running
  co_await time.sleep(1s);
  out->push_back(faults->kill("disk", RebootKind::kCrash));
  EXPECT_EQ(faults->restartKilled(), 1u);
  EXPECT_EQ(faults->restartKilled(), 0u);
  co_await time.sleep(1s);
}

TEST(TargetedFaults, KillPauseAndRestartSayWhenTheyChangeNothing) {
  Simulation sim(SimOptions{.seed = 42});
  SimWorld world(sim, WorldOptions::quiet());
  TargetedFaults faults(world);
  DiskLog log;
  world.addProcess(ProcessSpec{.name = "disk", .main = bindTask(diskProcess, &log, false)});
  std::vector<FaultEffect> effects;
  ASSERT_TRUE(sim.run(killPauseRestart(&world, &faults, &effects)).ok());
  using enum FaultEffect;
  EXPECT_EQ(effects, (std::vector<FaultEffect>{kApplied, kNoEffect, kApplied, kApplied, kNoEffect,
                                                kApplied, kNoEffect, kApplied}));
  EXPECT_EQ(log.boots, (std::vector<std::string>{"", "S", "S"}));
  EXPECT_EQ(world.info(0).incarnation, 3u);
  std::size_t noEffect = 0;
  for (const TimelineEvent& e : world.timeline().events()) {
    noEffect += e.kind.starts_with("targeted.") && e.detail.ends_with("no effect") ? 1 : 0;
  }
  EXPECT_EQ(noEffect, 3u);
  EXPECT_EQ(world.timeline().faultCounts().at("process.pause"), 1u);
  EXPECT_EQ(world.timeline().faultCounts().at("process.crash"), 2u);
}

// ---- errors --------------------------------------------------------------------------------

std::string errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Exception& e) {
    return e.description();
  }
  return "(no error)";
}

TEST(TargetedFaults, BadNamesAndArgumentsAreErrorsThatSayWhatIsWrong) {
  Pair w;
  w.world->addProcess(ProcessSpec{
      .name = "driver", .main = sender, .reboot = ProcessSpec::Reboot::kNever});
  TargetedFaults& f = *w.faults;
  EXPECT_EQ(errorOf([&] { f.kill("nope", RebootKind::kCrash); }),
            "targeted fault: no process named 'nope' (processes: a, b, driver)");
  EXPECT_EQ(errorOf([&] { f.partitionLink("a", "nope", Direction::kBoth); }),
            "targeted fault: no process named 'nope' (processes: a, b, driver)");
  EXPECT_TRUE(errorOf([&] { f.kill("driver", RebootKind::kCrash); })
                  .starts_with("targeted fault: cannot kill 'driver': it is a Reboot::kNever"));
  EXPECT_EQ(errorOf([&] { f.partitionLink("a", "a", Direction::kBoth); }),
            "targeted fault: a link needs two processes, got 'a' twice");
  EXPECT_EQ(errorOf([&] { f.clogLink("a", "b", 0ms, Direction::kBoth); }),
            "targeted fault: a clog needs a positive duration, got 0.000000000s");
  EXPECT_EQ(errorOf([&] { f.reboot("a", RebootKind::kCrash, -1s); }),
            "targeted fault: a reboot delay cannot be negative (-1.000000000s)");
  // Network faults may target a Reboot::kNever process (a client cut off is realistic).
  EXPECT_EQ(f.isolate("driver", Direction::kBoth), FaultEffect::kApplied);
  EXPECT_TRUE(f.used());
}

// ---- determinism ---------------------------------------------------------------------------

Task<void> mixedFaults(SimWorld* world, TargetedFaults* faults) {
  TimeProvider& time = world->rootProviders().time();
  AttritionOptions attrition;
  attrition.interval = {200ms, 800ms};
  attrition.recovery = {100ms, 300ms};
  attrition.deadMax = 3;
  JoinHandle<void> chaos =
      world->rootProviders().tasks().spawn("attrition", world->attrition(attrition, TimePoint(4s)));
  co_await time.sleep(500ms);
  faults->reboot("disk", RebootKind::kGraceful, 200ms);
  faults->partitionLink("a", "b", Direction::kOutgoing);
  co_await time.sleep(700ms);
  faults->healAll();
  faults->clogLink("a", "b", 250ms, Direction::kBoth);
  faults->kill("disk", RebootKind::kCrash);
  co_await chaos.join();
  faults->restartKilled();
  co_await world->allRunning();
}

struct Replay {
  std::vector<std::string> timeline;
  std::uint64_t hash = 0;
  std::size_t arrivals = 0;
};

Replay runMixed(std::uint64_t seed) {
  Pair w(seed);
  DiskLog log;
  w.world->addProcess(ProcessSpec{.name = "disk", .main = bindTask(diskProcess, &log, false)});
  const RunOutcome outcome = w.sim.run(mixedFaults(w.world.get(), w.faults.get()));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
  Replay out{.timeline = {}, .hash = outcome.decisionHash, .arrivals = w.arrivals.times.size()};
  for (const TimelineEvent& e : w.world->timeline().events()) out.timeline.push_back(e.toString());
  return out;
}

TEST(TargetedFaults, TheSameSeedWithTheSameFaultsReplaysExactlyNextToRandomChaos) {
  const Replay first = runMixed(77);
  const Replay second = runMixed(77);
  EXPECT_EQ(first.timeline, second.timeline);
  EXPECT_EQ(first.hash, second.hash);
  EXPECT_EQ(first.arrivals, second.arrivals);
  bool targeted = false, random = false;
  for (const std::string& line : first.timeline) {
    targeted |= line.find("targeted.reboot") != std::string::npos;
    random |= line.find("process.") != std::string::npos &&
              line.find("disk") == std::string::npos;  // attrition hit a or b
  }
  EXPECT_TRUE(targeted);
  EXPECT_TRUE(random) << ::testing::PrintToString(first.timeline);
  EXPECT_NE(runMixed(78).hash, first.hash);
}

}  // namespace
}  // namespace moonpool
