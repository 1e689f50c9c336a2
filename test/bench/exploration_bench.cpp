// What exploration costs and buys, on the two planted-bug examples (maze, dungeon), each
// figure next to its baseline from the same run:
//   - timelines per second (a fixed energy, every bug counted) against plain seeds per
//     second of the same workload: what one forked timeline costs compared with a seed;
//   - wall time and timelines to the first bug (BugPolicy::kStopAtFirst), over `--runs`
//     cold explorations of seeds 1..runs: how often it is found, the median and the worst;
//   - each sequential and with 2 timelines in parallel, with edge coverage on and off (on
//     only matters when the example libraries were built with SanitizerCoverage: the
//     "edges" column says how many counters the binary has);
//   - the fixed search order (explorer::SearchOrder::kFixed) with 1 and 2 workers: the same
//     timelines to the bug for both, and its load-independent figure, the critical path in
//     job CPU time ("path"; 2 workers against 1 is what parallel workers buy on idle cores).
//
//   exploration_bench [--runs=N] [--quick]
//
// Every exploration runs in this process through runSimulation (runner.h), as maze_sim and
// dungeon_sim do; one table per example, each row with its ratios. Wall time is harness
// bookkeeping (WallTimer), outside the simulation.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dungeon.h"
#include "maze.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/runner.h"

namespace {

using moonpool::RunOptions;
using moonpool::RunReport;
using moonpool::SimulationBuilder;
namespace explorer = moonpool::explorer;
namespace maze = moonpool::examples::maze;
namespace dungeon = moonpool::examples::dungeon;

struct Example {
  const char* name;
  SimulationBuilder builder;
  explorer::Config config;
  std::uint64_t throughputEnergy;  // timelines per second are measured on this energy
};

double seconds(const moonpool::WallTimer& timer) {
  return std::chrono::duration<double>(timer.elapsed()).count();
}

RunReport run(const Example& example, std::uint64_t firstSeed, std::uint64_t seeds,
              std::optional<explorer::Config> config) {
  RunOptions options;
  options.iteration = moonpool::IterationControl::fixedCount(seeds);
  options.firstSeed = firstSeed;
  options.coverage = moonpool::CoverageContracts::kReportOnly;
  options.explore = config ? moonpool::ExploreMode::kOn : moonpool::ExploreMode::kOff;
  options.exploration = config;
  return moonpool::runSimulation(example.builder, options);
}

// Plain seeds per second (the baseline of timelines per second).
double plainSeedsPerSecond(const Example& example, std::uint64_t seeds) {
  const moonpool::WallTimer timer;
  run(example, 1, seeds, std::nullopt);
  return static_cast<double>(seeds) / seconds(timer);
}

struct Throughput {
  double timelinesPerSecond = 0;
  std::uint64_t timelines = 0;
};

Throughput timelinesPerSecond(const Example& example, explorer::Config config) {
  config.energyPerSeed = example.throughputEnergy;
  config.bugs = explorer::BugPolicy::kContinue;
  const moonpool::WallTimer timer;
  const RunReport report = run(example, 1, 1, config);
  const double wall = seconds(timer);
  Throughput out;
  for (const moonpool::SeedResult& seed : report.seeds) {
    if (seed.exploration) out.timelines += seed.exploration->stats.timelines;
  }
  out.timelinesPerSecond = static_cast<double>(out.timelines) / wall;
  return out;
}

struct ToBug {
  int found = 0;
  int runs = 0;
  std::vector<double> wallMs;
  std::vector<double> timelines;
  std::vector<double> pathMs;  // fixed order: Stats::criticalPathNs
};

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double worst(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

ToBug timeToBug(const Example& example, explorer::Config config, int runs) {
  config.bugs = explorer::BugPolicy::kStopAtFirst;
  ToBug out;
  out.runs = runs;
  for (int r = 0; r < runs; ++r) {
    const RunReport report = run(example, static_cast<std::uint64_t>(r + 1), 1, config);
    const moonpool::SeedResult& seed = report.seeds.front();
    if (!seed.exploration || !seed.exploration->bugFound) continue;
    ++out.found;
    out.wallMs.push_back(
        std::chrono::duration<double, std::milli>(seed.exploration->wallToBug).count());
    out.timelines.push_back(static_cast<double>(seed.exploration->timelinesToBug));
    out.pathMs.push_back(static_cast<double>(seed.exploration->stats.criticalPathNs) / 1e6);
  }
  return out;
}

struct Variant {
  const char* name;
  std::uint32_t parallelism;
  explorer::EdgeCoverage edges;
  explorer::SearchOrder order = explorer::SearchOrder::kFast;
};

constexpr Variant kVariants[] = {
    {"seq, edges on", 1, explorer::EdgeCoverage::kOn},
    {"seq, edges off", 1, explorer::EdgeCoverage::kOff},
    {"par 2, edges on", 2, explorer::EdgeCoverage::kOn},
    {"par 2, edges off", 2, explorer::EdgeCoverage::kOff},
    {"fixed, 1 worker", 1, explorer::EdgeCoverage::kOn, explorer::SearchOrder::kFixed},
    {"fixed, 2 workers", 2, explorer::EdgeCoverage::kOn, explorer::SearchOrder::kFixed},
};

// Edge counters the binary registered (SanitizerCoverage on the example libraries).
std::uint64_t edgesIn(const Example& example) {
  explorer::Config config = example.config;
  config.energyPerSeed = 1;
  return run(example, 1, 1, config).edgesTotal;
}

void benchExample(const Example& example, int runs, std::uint64_t plainSeeds) {
  const double plain = plainSeedsPerSecond(example, plainSeeds);
  std::printf("\n%s: plain seeds %.0f/s (%.3f ms each; the baseline); bug runs stop at the "
              "first bug, energy %llu per seed\n",
              example.name, plain, 1e3 / plain,
              static_cast<unsigned long long>(example.config.energyPerSeed));
  std::printf("  %-16s %11s %9s %8s %8s | %5s %21s %8s %19s %9s\n", "variant", "timelines/s",
              "ms each", "x plain", "x seq-on", "found", "wall to bug med/max", "x seq-on",
              "timelines med/max", "path med");
  double seqToBug = 0;
  double seqRate = 0;
  for (const Variant& v : kVariants) {
    explorer::Config config = example.config;
    config.parallelism = v.parallelism;
    config.edges = v.edges;
    config.order = v.order;
    const Throughput t = timelinesPerSecond(example, config);
    const ToBug b = timeToBug(example, config, runs);
    if (seqRate == 0) seqRate = t.timelinesPerSecond;
    if (seqToBug == 0) seqToBug = median(b.wallMs);
    std::printf("  %-16s %11.0f %9.3f %7.3fx %7.2fx | %2d/%-2d %9.0f %9.0f ms %7.2fx %9.0f %9.0f "
                "%6.0f ms\n",
                v.name, t.timelinesPerSecond, 1e3 / t.timelinesPerSecond,
                t.timelinesPerSecond / plain, t.timelinesPerSecond / seqRate, b.found, b.runs,
                median(b.wallMs), worst(b.wallMs),
                seqToBug > 0 ? median(b.wallMs) / seqToBug : 0.0, median(b.timelines),
                worst(b.timelines), median(b.pathMs));
    std::fflush(stdout);
  }
  std::printf("  (edge counters in the binary: %llu; 0 means edges on = edges off)\n",
              static_cast<unsigned long long>(edgesIn(example)));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      runs = std::atoi(argv[i] + 7);
      if (runs < 1 || runs > 1000) {
        std::fprintf(stderr, "--runs must be in [1, 1000], got '%s'\n", argv[i] + 7);
        return 2;
      }
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      std::fprintf(stderr, "unknown argument '%s' (usage: exploration_bench [--runs=N] "
                   "[--quick])\n", argv[i]);
      return 2;
    }
  }
  const Example mazeExample{"maze", maze::makeMazeBuilder(maze::MazeOptions{}),
                            maze::mazeExploration(), quick ? 500u : 3'000u};
  const Example dungeonExample{"dungeon", dungeon::makeDungeonBuilder(dungeon::DungeonOptions{}),
                               dungeon::dungeonExploration(), quick ? 500u : 3'000u};
  benchExample(mazeExample, runs, quick ? 100 : 1'000);
  benchExample(dungeonExample, runs, quick ? 100 : 1'000);
  return 0;
}
