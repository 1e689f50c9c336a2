// Benchmarks of the coroutine core and the simulated executor. Each figure comes with a
// baseline measured in the same run (scripts/bench.sh prints the ratios):
//   AwaitReadyChild  vs CallFunction       co_await of a child Task that completes at once
//   SpawnJoin        vs AwaitReadyChild    spawn a task into a group, then join it
//   TimerHeavySim    vs RawEventQueue      simulated events/s: tasks sleeping random delays,
//                                          against a bare (time, seq) heap doing push+pop
//   HeartbeatSeed                          the main job's workload: simulated s per wall s
#include <benchmark/benchmark.h>

#include <queue>
#include <vector>

#include "heartbeat.h"
#include "moonpool/sim/simulation.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

[[gnu::noinline]] int plainFunction(int x) {
  benchmark::DoNotOptimize(x);
  return x + 1;
}

void CallFunction(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) x = plainFunction(x);
  benchmark::DoNotOptimize(x);
}
BENCHMARK(CallFunction);

Task<int> readyChild(int x) { co_return x + 1; }

Task<void> awaitLoop(benchmark::State* state) {
  int x = 0;
  for (auto _ : *state) x = co_await readyChild(x);
  benchmark::DoNotOptimize(x);
}

void AwaitReadyChild(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1});
  RunOutcome outcome = sim.run(awaitLoop(&state));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
}
BENCHMARK(AwaitReadyChild);

Task<void> spawnJoinLoop(benchmark::State* state, TaskProvider* tasks) {
  int x = 0;
  for (auto _ : *state) {
    JoinHandle<int> h = tasks->spawn("child", readyChild(x));
    x = co_await h.join();
  }
  benchmark::DoNotOptimize(x);
}

void SpawnJoin(benchmark::State& state) {
  // Every iteration happens at one simulated instant: lift the livelock guard.
  Simulation sim(SimOptions{.seed = 1, .stepsPerInstantMax = UINT64_MAX});
  RunOutcome outcome = sim.run(spawnJoinLoop(&state, &sim.providers().tasks()));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
}
BENCHMARK(SpawnJoin);

constexpr int kSleepers = 100;
constexpr int kSleepsEach = 1000;

Task<void> sleeperLoop(Providers p) {
  for (int i = 0; i < kSleepsEach; ++i) {
    co_await p.time().sleep(p.random().durationBetween(1us, 10ms));
  }
}

Task<void> timerHeavy(Providers p) {
  std::vector<Task<void>> sleepers;
  for (int i = 0; i < kSleepers; ++i) sleepers.push_back(sleeperLoop(p));
  co_await whenAll(std::move(sleepers));
}

void TimerHeavySim(benchmark::State& state) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    Simulation sim(SimOptions{.seed = 7});
    RunOutcome outcome = sim.run(timerHeavy(sim.providers()));
    if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
    events += outcome.steps;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(TimerHeavySim)->Unit(benchmark::kMillisecond);

// The same number of timer events through a bare binary heap: the floor any event-driven
// simulator pays, without tasks, coroutines or bookkeeping.
void RawEventQueue(benchmark::State& state) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    using Entry = std::pair<std::int64_t, std::uint64_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    RandomStream random(7);
    std::uint64_t seq = 0;
    std::vector<int> remaining(kSleepers, kSleepsEach);
    for (int i = 0; i < kSleepers; ++i) {
      heap.emplace(static_cast<std::int64_t>(random.below(10'000'000)),
                   seq++ * 1024 + static_cast<std::uint64_t>(i));
    }
    while (!heap.empty()) {
      auto [when, key] = heap.top();
      heap.pop();
      ++events;
      const auto who = static_cast<std::size_t>(key % 1024);
      if (--remaining[who] > 0) {
        heap.emplace(when + static_cast<std::int64_t>(random.below(10'000'000)),
                     seq++ * 1024 + who);
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(RawEventQueue)->Unit(benchmark::kMillisecond);

void HeartbeatSeed(benchmark::State& state) {
  examples::HeartbeatOptions options;
  options.simulated = 300s;
  std::uint64_t seed = 1;
  double simulatedSeconds = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    Simulation sim(SimOptions{.seed = seed++});
    examples::SeedStats stats;
    auto main = [](Providers p, examples::HeartbeatOptions o,
                   examples::SeedStats* out) -> Task<void> {
      *out = co_await examples::runHeartbeatCluster(p, o);
    };
    RunOutcome outcome = sim.run(main(sim.providers(), options, &stats));
    if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
    simulatedSeconds += static_cast<double>(outcome.endTime.time_since_epoch().count()) / 1e9;
    events += outcome.steps;
  }
  state.counters["sim_s_per_wall_s"] =
      benchmark::Counter(simulatedSeconds, benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(HeartbeatSeed)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moonpool

BENCHMARK_MAIN();
