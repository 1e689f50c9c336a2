// SanitizerCoverage cost on hot loops: the same loops (coverage_hot_loops.cpp) uninstrumented
// (base), with trace-pc-guard (guard: a call per edge into sancov_runtime.cpp) and with
// inline-8bit-counters,pc-table (counters: an inline increment per edge). The instrumented
// copies run inside a timeline, as in an exploration: guard hits go to a slot.
// scripts/bench_coverage.sh prints each figure as a ratio to `base` from the same run.
//   Collatz/<copy>            Collatz + switch over 1..kCollatzStarts: latency-bound
//   BytesPredictable/<copy>  byte classifier over kBytes of 'a': every branch predicted
//   BytesRandom/<copy>       byte classifier over kBytes of random bytes: mispredictions
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "coverage_hot_loops.h"
#include "moonpool/explorer/edges.h"

namespace moonpool::covbench {
namespace {

constexpr std::uint64_t kCollatzStarts = 20'000;
constexpr std::size_t kBytes = std::size_t{1} << 20;

using CollatzFn = std::uint64_t (*)(std::uint64_t);
using ClassifyFn = std::uint64_t (*)(const std::uint8_t*, std::size_t);

const std::vector<std::uint8_t>& predictableBytes() {
  static const std::vector<std::uint8_t> bytes(kBytes, 'a');
  return bytes;
}

// xorshift64: fixed, uniform bytes (a benchmark input, not simulation randomness).
const std::vector<std::uint8_t>& randomBytes() {
  static const std::vector<std::uint8_t> bytes = [] {
    std::vector<std::uint8_t> out(kBytes);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::uint8_t& byte : out) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      byte = static_cast<std::uint8_t>(x >> 56);
    }
    return out;
  }();
  return bytes;
}

void Collatz(benchmark::State& state, CollatzFn fn) {
  for (auto _ : state) benchmark::DoNotOptimize(fn(kCollatzStarts));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kCollatzStarts));
}

void classify(benchmark::State& state, ClassifyFn fn, const std::vector<std::uint8_t>& bytes) {
  for (auto _ : state) benchmark::DoNotOptimize(fn(bytes.data(), bytes.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void BytesPredictable(benchmark::State& state, ClassifyFn fn) {
  classify(state, fn, predictableBytes());
}

void BytesRandom(benchmark::State& state, ClassifyFn fn) { classify(state, fn, randomBytes()); }

BENCHMARK_CAPTURE(Collatz, base, &base::collatzSwitch);
BENCHMARK_CAPTURE(Collatz, guard, &guard::collatzSwitch);
BENCHMARK_CAPTURE(Collatz, counters, &counters::collatzSwitch);
BENCHMARK_CAPTURE(BytesPredictable, base, &base::classifyBytes);
BENCHMARK_CAPTURE(BytesPredictable, guard, &guard::classifyBytes);
BENCHMARK_CAPTURE(BytesPredictable, counters, &counters::classifyBytes);
BENCHMARK_CAPTURE(BytesRandom, base, &base::classifyBytes);
BENCHMARK_CAPTURE(BytesRandom, guard, &guard::classifyBytes);
BENCHMARK_CAPTURE(BytesRandom, counters, &counters::classifyBytes);

}  // namespace
}  // namespace moonpool::covbench

int main(int argc, char** argv) {
  const moonpool::explorer::EdgeSource* source = moonpool::explorer::edgeSource();
  if (source == nullptr) {
    std::fprintf(stderr, "coverage_bench: no EdgeSource registered (built without coverage?)\n");
    return 1;
  }
  std::vector<std::uint8_t> slot(source->edgeCount(), 0);
  source->beginTimeline(slot.data());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  source->endTimeline(slot.data());
  return 0;
}
