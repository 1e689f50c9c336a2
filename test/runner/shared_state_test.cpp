// Goal: per-seed shared state (SimulationBuilder::sharedState<T>(), sim/shared_state.h) is
// one object per type and seed, reached from process code and workload code alike, made
// fresh for each seed (from the seed, by a factory) and destroyed when the seed ends, so two
// seeds never see each other's object; a rebooted process finds what it put there before.
// Asking for an undeclared type fails the seed with a message naming the type and the fix;
// declaring a type twice is a set-up bug (a check failure).
// Method: service processes log each boot into a shared Registry; a workload reboots one of
// them and its check() reads the log. A test-owned Tracker counts Registry lifetimes.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Lifetimes of every Registry made by one run (owned by the test, shared with the factory).
struct Tracker {
  std::vector<std::uint64_t> created;  // the seed of each Registry, in creation order
  std::size_t destroyed = 0;
};

struct Registry {
  Registry(std::uint64_t s, std::shared_ptr<Tracker> t) : seed(s), tracker(std::move(t)) {
    tracker->created.push_back(seed);
  }
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry() { ++tracker->destroyed; }

  std::uint64_t seed;
  std::shared_ptr<Tracker> tracker;
  std::vector<std::string> boots;  // "<process>#<incarnation>"
};

// A second shared type, value-initialized (no factory).
struct Notes {
  std::vector<std::string> lines;
};

Task<void> service(ProcessContext& ctx) {
  ctx.shared<Registry>().boots.push_back(ctx.name() + "#" + std::to_string(ctx.incarnation()));
  for (;;) co_await ctx.providers().time().sleep(1s);
}

Task<void> rebootOne(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1s);
  ctx.faults().reboot("svc-2", RebootKind::kCrashAndWipe, 200ms);
  ctx.shared<Notes>().lines.push_back("rebooted svc-2 at seed " + std::to_string(ctx.seed()));
  co_await ctx.providers().time().sleep(1s);
}

Task<CheckResult> sameRegistry(WorkloadContext& ctx) {
  const Registry& registry = ctx.shared<Registry>();
  if (registry.seed != ctx.seed()) {
    co_return CheckResult::fail("the registry of seed " + std::to_string(registry.seed));
  }
  // The two first boots run in a seeded order: compare sorted.
  std::vector<std::string> boots = registry.boots;
  std::sort(boots.begin(), boots.end());
  const std::vector<std::string> expected{"svc-1#1", "svc-2#1", "svc-2#2"};
  if (boots != expected) {
    std::string got;
    for (const std::string& b : registry.boots) got += b + " ";
    co_return CheckResult::fail("boots: " + got);
  }
  if (ctx.shared<Notes>().lines.size() != 1) co_return CheckResult::fail("notes leaked");
  co_return CheckResult::pass();
}

SimulationBuilder registryBuilder(std::shared_ptr<Tracker> tracker) {
  SimulationBuilder builder("registry");
  builder.processes(2, "svc", service)
      .workload(Workload{.name = "w", .run = rebootOne, .check = sameRegistry})
      .sharedState<Registry>([tracker](std::uint64_t seed) {
        return std::make_unique<Registry>(seed, tracker);
      })
      .sharedState<Notes>()
      .seeds({5, 6, 7});
  return builder;
}

TEST(SharedState, EachSeedGetsItsOwnObjectThatSurvivesReboots) {
  auto tracker = std::make_shared<Tracker>();
  const RunReport report = runSimulation(registryBuilder(tracker));
  ASSERT_EQ(report.seeds.size(), 3u);
  for (const SeedResult& s : report.seeds) EXPECT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
  EXPECT_EQ(tracker->created, (std::vector<std::uint64_t>{5, 6, 7}));
  EXPECT_EQ(tracker->destroyed, 3u) << "each seed's object is gone when the seed ends";
}

TEST(SharedState, ForkedWorkersGiveTheSameVerdicts) {
  auto tracker = std::make_shared<Tracker>();
  const RunReport report = runSimulation(registryBuilder(tracker), RunOptions{.jobs = 2});
  ASSERT_EQ(report.seeds.size(), 3u);
  for (const SeedResult& s : report.seeds) EXPECT_EQ(s.verdict, SeedVerdict::kPass) << s.message;
  EXPECT_TRUE(tracker->created.empty()) << "the seeds ran in the workers";
}

struct Undeclared {
  int value = 0;
};

Task<void> readsUndeclared(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1ms);
  ctx.shared<Undeclared>().value = 1;
}

TEST(SharedState, AnUndeclaredTypeFailsTheSeedNamingTheFix) {
  SimulationBuilder builder("undeclared");
  builder.workload(Workload{.name = "w", .run = readsUndeclared}).seeds({1});
  const RunReport report = runSimulation(builder);
  ASSERT_EQ(report.seeds.size(), 1u);
  EXPECT_EQ(report.seeds[0].failure, SeedFailure::kWorkloadError);
  EXPECT_TRUE(has(report.seeds[0].message,
                  "no shared state of type 'moonpool::(anonymous namespace)::Undeclared' in this "
                  "seed: declare it with SimulationBuilder::sharedState<"))
      << report.seeds[0].message;
}

TEST(SharedStateDeathTest, DeclaringATypeTwiceIsASetUpBug) {
  SimulationBuilder builder("twice");
  builder.sharedState<Notes>();
  EXPECT_DEATH(builder.sharedState<Notes>(), "sharedState<T>\\(\\) declared twice for one type");
}

}  // namespace
}  // namespace moonpool
