// Goal: measure the hot-path cost of a satisfied assertion against a baseline loop body in
// the same run (issue 4: "a satisfied always costs a few nanoseconds").
// Method: every benchmark runs the same loop; the baseline does only the opaque work that the
// assertion variants also do (DoNotOptimize of the operand), so the difference is the
// assertion. Build in Release and run by hand; it is not a ctest test.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "moonpool/assertions.h"

namespace {

void baseline(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    ++x;
  }
}
BENCHMARK(baseline);

void alwaysTrueLiteral(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    ++x;
    MOONPOOL_ALWAYS(true, "bench: always true literal");
  }
}
BENCHMARK(alwaysTrueLiteral);

void alwaysTrueCondition(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    ++x;
    MOONPOOL_ALWAYS(x > 0, "bench: always with a computed condition");
  }
}
BENCHMARK(alwaysTrueCondition);

void sometimesAlreadyDiscovered(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    ++x;
    MOONPOOL_SOMETIMES(x > 0, "bench: sometimes after its discovery");
  }
}
BENCHMARK(sometimesAlreadyDiscovered);

void alwaysLessThanHolding(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    ++x;
    MOONPOOL_ALWAYS_LT(x, INT64_MAX, "bench: numeric always holding");
  }
}
BENCHMARK(alwaysLessThanHolding);

}  // namespace
