// What --coverage_dir costs on a real workload: KV seeds (kv_lib built with trace-pc-guard),
// each run plain and recorded in the same binary and the same run, so the two differ only by
// the recording (scripts/bench_cov.sh prints the ratio).
//   KvRecord/<chaos>/0   runKvSeed only (the runtime counts into its private map)
//   KvRecord/<chaos>/1   recordSeedBegin + runKvSeed + recordSeedEnd: the map is the
//                        recorder's slot, merged into the shared records after each seed
// With --coverage_out=DIR the recording (of the recorded runs) is written to DIR for
// moonpool-cov, whose report time the script measures too.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "kv_sim.h"
#include "moonpool/explorer/recording.h"

namespace moonpool::kv {
namespace {

void KvRecord(benchmark::State& state) {
  KvSimOptions options;
  options.chaos = state.range(0) != 0 ? KvSimOptions::Chaos::kOn : KvSimOptions::Chaos::kOff;
  const bool recorded = state.range(1) != 0;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    if (recorded) explorer::recordSeedBegin();
    KvSeedResult result = runKvSeed(seed, options);
    if (recorded) explorer::recordSeedEnd(seed, nullptr);
    ++seed;
    if (!result.passed()) {
      state.SkipWithError(("seed " + std::to_string(seed - 1) + " failed").c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(seed - 1));
}
BENCHMARK(KvRecord)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"chaos", "recorded"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moonpool::kv

int main(int argc, char** argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--coverage_out=", 15) == 0) out = argv[i] + 15;
  }
  char error[512] = {};
  if (!moonpool::explorer::startRecording("kv_cov_record_bench", error, sizeof error)) {
    std::fprintf(stderr, "kv_cov_record_bench: %s\n", error);
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (out.empty()) return 0;
  std::filesystem::create_directories(out);
  if (!moonpool::explorer::writeRecording(out.c_str(), error, sizeof error)) {
    std::fprintf(stderr, "kv_cov_record_bench: %s\n", error);
    return 1;
  }
  return 0;
}
