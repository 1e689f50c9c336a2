// Benchmarks of the simulated world's hot paths, each next to its baseline:
//   - streaming through a simulated connection, quiet network vs every fault family on at
//     rates that do not break the stream (the cost of the fault hooks when they are live);
//   - buggify(): no world installed (production path) vs a world with the site inactive vs
//     active;
//   - a process boot + crash cycle (what attrition costs per reboot).
#include <benchmark/benchmark.h>

#include "moonpool/buggify.h"
#include "moonpool/sim/world.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

WorldOptions worldWith(NetworkOptions network) {
  WorldOptions options = WorldOptions::quiet();
  options.network = std::move(network);
  return options;
}

Task<void> sink(std::unique_ptr<Connection> connection, std::uint64_t* received) {
  std::byte buffer[16 * 1024];
  for (;;) {
    IoResult<std::size_t> got = co_await connection->read(buffer);
    if (!got.ok() || *got == 0) co_return;
    *received += *got;
  }
}

Task<void> stream(SimWorld* world, std::size_t bytes, std::uint64_t* received) {
  Providers p = world->rootProviders();
  auto listener = p.network().listen(NetAddress{IpAddress(), 1}, 1).orThrow();
  auto dialed = (co_await p.network().connect(listener->localAddress())).orThrow();
  auto accepted = (co_await listener->accept()).orThrow();
  auto reader = p.tasks().spawn("sink", sink(std::move(accepted), received));
  std::vector<std::byte> chunk(4096, std::byte{0x5a});
  for (std::size_t sent = 0; sent < bytes; sent += chunk.size()) {
    if (!(co_await dialed->writeAll(chunk)).ok()) break;
  }
  (void)dialed->shutdownWrite();
  co_await reader.join();
}

void streamBench(benchmark::State& state, NetworkOptions network) {
  constexpr std::size_t kBytes = 16 << 20;
  std::uint64_t total = 0;
  for (auto _ : state) {
    Simulation sim(SimOptions{.seed = 1});
    SimWorld world(sim, worldWith(network));
    std::uint64_t received = 0;
    RunOutcome outcome = sim.run(stream(&world, kBytes, &received));
    if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
    total += received;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

void StreamQuiet(benchmark::State& state) { streamBench(state, NetworkOptions::quiet()); }
BENCHMARK(StreamQuiet)->Unit(benchmark::kMillisecond);

void StreamFaultHooksLive(benchmark::State& state) {
  NetworkOptions options = NetworkOptions::quiet();
  options.faults.clogProbability = Probability{1e-9};
  options.faults.randomCloseProbability = Probability{1e-12};
  options.faults.partialIoProbability = Probability{1e-9};
  options.faults.bitFlipProbability = Probability{1e-12};
  streamBench(state, options);
}
BENCHMARK(StreamFaultHooksLive)->Unit(benchmark::kMillisecond);

void StreamDefaultLatency(benchmark::State& state) {
  NetworkOptions options;  // uniform latency draws per chunk, no faults
  streamBench(state, options);
}
BENCHMARK(StreamDefaultLatency)->Unit(benchmark::kMillisecond);

Task<void> evaluate(std::int64_t n, std::int64_t* fired) {
  for (std::int64_t i = 0; i < n; ++i) *fired += buggify() ? 1 : 0;
  co_return;
}

void buggifyBench(benchmark::State& state, BuggifyOptions::Mode mode, double activation) {
  Simulation sim(SimOptions{.seed = 3});
  WorldOptions options = worldWith(NetworkOptions::quiet());
  options.buggify = BuggifyOptions{.mode = mode, .activation = Probability(activation)};
  std::optional<SimWorld> world;
  if (mode == BuggifyOptions::Mode::kOn) world.emplace(sim, options);
  std::int64_t fired = 0;
  for (auto _ : state) {
    (void)sim.run(evaluate(1000, &fired));
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations() * 1000);
}

void BuggifyNoWorld(benchmark::State& state) { buggifyBench(state, BuggifyOptions::Mode::kOff, 0); }
BENCHMARK(BuggifyNoWorld);
void BuggifyInactiveSite(benchmark::State& state) {
  buggifyBench(state, BuggifyOptions::Mode::kOn, 0.0);
}
BENCHMARK(BuggifyInactiveSite);
void BuggifyActiveSite(benchmark::State& state) {
  buggifyBench(state, BuggifyOptions::Mode::kOn, 1.0);
}
BENCHMARK(BuggifyActiveSite);

Task<void> idle(ProcessContext& context) { co_await context.providers().time().sleep(1h); }

Task<void> rebootLoop(SimWorld* world, ProcessId id, int n) {
  for (int i = 0; i < n; ++i) {
    world->reboot(id, RebootKind::kCrash, 1ms);
    co_await world->allRunning();
  }
}

void RebootCycle(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 5});
  SimWorld world(sim, worldWith(NetworkOptions::quiet()));
  ProcessId id = world.addProcess(ProcessSpec{.name = "p", .main = idle});
  for (auto _ : state) (void)sim.run(rebootLoop(&world, id, 100));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(RebootCycle);

}  // namespace
}  // namespace moonpool

BENCHMARK_MAIN();
