// Benchmarks of the replicated KV example (examples/kv): one whole simulated seed per
// iteration, each iteration a different seed (1, 2, 3, ...), as the chaos test runs them.
//   KvSeedQuiet  chaos off: quiet network, fast fault-free disks, no clock drift, no buggify.
//                With every fault probability at zero the network and storage draw nothing
//                for faults, so this is also "the fault hooks present but off".
//   KvSeedChaos  the chaos test's configuration: swarm network and storage faults,
//                attrition, partitions and clogs, buggify.
// Rates are per CPU second of the single-threaded simulation (its wall time when the
// machine is otherwise idle), so a loaded machine does not skew them. Counters:
// sim_s_per_wall_s (simulated seconds per second), items_per_second (seeds per second),
// ops_per_s (acknowledged PUTs + checked GETs per second), steps_per_s (executor steps per
// second). The quiet/chaos ratio of sim_s_per_wall_s is the price of
// full chaos; note that the two do different work (chaos seeds spend time in retries,
// reboots and recoveries, quiet seeds serve more requests).
#include <benchmark/benchmark.h>

#include "kv_sim.h"

namespace moonpool::kv {
namespace {

void runSeeds(benchmark::State& state, KvSimOptions::Chaos chaos) {
  KvSimOptions options;
  options.chaos = chaos;
  std::uint64_t seed = 1;
  double simulated = 0;
  double ops = 0;
  double steps = 0;
  for (auto _ : state) {
    KvSeedResult result = runKvSeed(seed++, options);
    if (!result.passed()) {
      state.SkipWithError(
          ("seed " + std::to_string(seed - 1) + " failed: " + result.reason).c_str());
      break;
    }
    simulated += static_cast<double>(result.run.endTime.time_since_epoch().count()) / 1e9;
    ops += static_cast<double>(result.putsAcked + result.getsChecked);
    steps += static_cast<double>(result.run.steps);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(seed - 1));
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated, benchmark::Counter::kIsRate);
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsRate);
  state.counters["steps_per_s"] = benchmark::Counter(steps, benchmark::Counter::kIsRate);
}

void KvSeedQuiet(benchmark::State& state) { runSeeds(state, KvSimOptions::Chaos::kOff); }
BENCHMARK(KvSeedQuiet)->Unit(benchmark::kMillisecond);

void KvSeedChaos(benchmark::State& state) { runSeeds(state, KvSimOptions::Chaos::kOn); }
BENCHMARK(KvSeedChaos)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moonpool::kv

BENCHMARK_MAIN();
