// The main job: the heartbeat cluster over many seeds, with a report.
//
//   heartbeat_sim [--seeds=N] [--first_seed=S] [--nodes=K] [--sim_seconds=T] [--verbose]
//
// Each seed is one deterministic simulation; a failing seed prints the one-line command that
// reproduces it. Exit status: 0 when every seed passed, 1 when a property failed or a run
// ended abnormally, 2 for bad flags.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "heartbeat.h"
#include "moonpool/assertions/report.h"
#include "moonpool/assertions/table.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/sim/simulation.h"

ABSL_FLAG(int64_t, seeds, 200, "number of seeds to run");
ABSL_FLAG(uint64_t, first_seed, 1, "first seed; seeds run first_seed, first_seed+1, ...");
ABSL_FLAG(int32_t, nodes, 5, "cluster size (2..64)");
ABSL_FLAG(int64_t, sim_seconds, 300, "simulated seconds per seed");
ABSL_FLAG(bool, verbose, false, "print one line per seed");

namespace {

using moonpool::Duration;
using moonpool::examples::HeartbeatOptions;
using moonpool::examples::SeedStats;

struct Totals {
  std::uint64_t seeds = 0;
  std::uint64_t passed = 0;
  std::uint64_t steps = 0;
  Duration simulated{0};
  SeedStats sum;
  std::vector<std::string> failures;
};

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

std::string reproduceCommand(const char* argv0, std::uint64_t seed, const HeartbeatOptions& o) {
  return absl::StrFormat("%s --first_seed=%d --seeds=1 --nodes=%d --sim_seconds=%d --verbose",
                         argv0, seed, o.nodes,
                         std::chrono::duration_cast<std::chrono::seconds>(o.simulated).count());
}

void accumulate(Totals& t, const SeedStats& s) {
  t.sum.messagesSent += s.messagesSent;
  t.sum.messagesDropped += s.messagesDropped;
  t.sum.messagesDelivered += s.messagesDelivered;
  t.sum.inboxOverflows += s.inboxOverflows;
  t.sum.pauses += s.pauses;
  t.sum.detectablePauses += s.detectablePauses;
  t.sum.detections += s.detections;
  t.sum.falseSuspicions += s.falseSuspicions;
  t.sum.staleSuspicions += s.staleSuspicions;
  t.sum.detectionLatencySum += s.detectionLatencySum;
  t.sum.detectionLatencyMax = std::max(t.sum.detectionLatencyMax, s.detectionLatencyMax);
  t.sum.rttSamples += s.rttSamples;
  t.sum.rttSum += s.rttSum;
  t.sum.rttMax = std::max(t.sum.rttMax, s.rttMax);
}

bool validate(std::int64_t seeds, int nodes, std::int64_t simSeconds) {
  bool ok = true;
  if (seeds < 1 || seeds > 10'000'000) {
    std::fprintf(stderr, "heartbeat_sim: --seeds must be in [1, 10000000], got %lld\n",
                 static_cast<long long>(seeds));
    ok = false;
  }
  if (nodes < 2 || nodes > HeartbeatOptions::kNodesMax) {
    std::fprintf(stderr, "heartbeat_sim: --nodes must be in [2, %d], got %d\n",
                 HeartbeatOptions::kNodesMax, nodes);
    ok = false;
  }
  if (simSeconds < 1 || simSeconds > 86'400 * 365) {
    std::fprintf(stderr, "heartbeat_sim: --sim_seconds must be in [1, 31536000], got %lld\n",
                 static_cast<long long>(simSeconds));
    ok = false;
  }
  return ok;
}

void printSummary(const Totals& t, Duration wall, const HeartbeatOptions& o) {
  const double wallS = seconds(wall);
  std::printf("\nSummary\n");
  std::printf("  seeds run        %llu (%llu passed, %llu failed)\n",
              static_cast<unsigned long long>(t.seeds), static_cast<unsigned long long>(t.passed),
              static_cast<unsigned long long>(t.seeds - t.passed));
  std::printf("  simulated time   %.1f s total, %.1f s per seed\n", seconds(t.simulated),
              seconds(t.simulated) / static_cast<double>(t.seeds));
  std::printf("  events (steps)   %llu total, %llu per seed\n",
              static_cast<unsigned long long>(t.steps),
              static_cast<unsigned long long>(t.steps / t.seeds));
  std::printf("  wall time        %.3f s (%.2f ms per seed)\n", wallS,
              wallS * 1e3 / static_cast<double>(t.seeds));
  std::printf("  sim / wall       %.0fx (simulated seconds per wall second)\n",
              seconds(t.simulated) / std::max(wallS, 1e-9));
  std::printf("  events / wall s  %.0f\n", static_cast<double>(t.steps) / std::max(wallS, 1e-9));
  const SeedStats& s = t.sum;
  std::printf("  messages         %llu sent, %llu delivered, %llu lost, %llu inbox overflows\n",
              static_cast<unsigned long long>(s.messagesSent),
              static_cast<unsigned long long>(s.messagesDelivered),
              static_cast<unsigned long long>(s.messagesDropped),
              static_cast<unsigned long long>(s.inboxOverflows));
  std::printf("  pauses           %llu injected, %llu long enough to be detectable\n",
              static_cast<unsigned long long>(s.pauses),
              static_cast<unsigned long long>(s.detectablePauses));
  std::printf("  detections       %llu (mean latency %.3f s, max %.3f s, bound %.3f s)\n",
              static_cast<unsigned long long>(s.detections),
              s.detections ? seconds(s.detectionLatencySum) / static_cast<double>(s.detections) : 0.0,
              seconds(s.detectionLatencyMax),
              seconds(moonpool::examples::detectionBound(o)));
  std::printf("  false suspicions %llu (plus %llu by observers waking from their own pause)\n",
              static_cast<unsigned long long>(s.falseSuspicions),
              static_cast<unsigned long long>(s.staleSuspicions));
  std::printf("  ping rtt         mean %.1f ms, max %.1f ms (%llu samples)\n",
              s.rttSamples ? seconds(s.rttSum) * 1e3 / static_cast<double>(s.rttSamples) : 0.0,
              seconds(s.rttMax) * 1e3, static_cast<unsigned long long>(s.rttSamples));
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "moonpool heartbeat simulation: a failure-detector cluster under node pauses, message "
      "loss and latency, run over many seeds");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "heartbeat_sim: unexpected argument '%s' (flags look like --seeds=10)\n",
                 rest[1]);
    return 2;
  }
  const std::int64_t seeds = absl::GetFlag(FLAGS_seeds);
  const std::uint64_t firstSeed = absl::GetFlag(FLAGS_first_seed);
  const int nodes = absl::GetFlag(FLAGS_nodes);
  const std::int64_t simSeconds = absl::GetFlag(FLAGS_sim_seconds);
  if (!validate(seeds, nodes, simSeconds)) return 2;
  const bool verbose = absl::GetFlag(FLAGS_verbose);

  HeartbeatOptions options;
  options.nodes = nodes;
  options.simulated = std::chrono::seconds(simSeconds);
  std::printf("moonpool heartbeat simulation (build %s)\n", MOONPOOL_BUILD_ID);
  std::printf("  %d nodes, %lld s simulated per seed, seeds %llu..%llu\n", nodes,
              static_cast<long long>(simSeconds), static_cast<unsigned long long>(firstSeed),
              static_cast<unsigned long long>(firstSeed + static_cast<std::uint64_t>(seeds) - 1));
  std::printf("  heartbeat every %.1f s, suspect after %.1f s, latency %.0f-%.0f ms, loss %.1f%%\n",
              seconds(options.interval), seconds(options.suspectAfter),
              seconds(options.latencyMin) * 1e3, seconds(options.latencyMax) * 1e3,
              options.lossProbability * 100);
  if (verbose) std::printf("\n%-8s %-9s %10s %10s %8s %7s %9s %6s\n", "seed", "result",
                           "sim s", "steps", "wall ms", "pauses", "detected", "false");

  Totals totals;
  moonpool::WallTimer wall;
  const std::int64_t progressEvery = std::max<std::int64_t>(seeds / 10, 1000);
  for (std::int64_t i = 0; i < seeds; ++i) {
    const std::uint64_t seed = firstSeed + static_cast<std::uint64_t>(i);
    moonpool::WallTimer seedWall;
    moonpool::resetRunViolations();
    moonpool::Simulation sim(moonpool::SimOptions{.seed = seed});
    SeedStats stats;
    auto main = [](moonpool::Providers p, HeartbeatOptions o, SeedStats* out) -> moonpool::Task<void> {
      *out = co_await moonpool::examples::runHeartbeatCluster(p, o);
    };
    moonpool::RunOutcome outcome = sim.run(main(sim.providers(), options, &stats));
    ++totals.seeds;
    totals.steps += outcome.steps;
    totals.simulated += outcome.endTime.time_since_epoch();
    accumulate(totals, stats);
    const std::uint64_t assertionFailures = moonpool::runViolationCount();
    if (assertionFailures > 0) {
      stats.violations.push_back(std::to_string(assertionFailures) +
                                 " assertion failure(s) (see the assertion report)");
    }
    const bool passed = outcome.ok() && stats.violations.empty();
    if (passed) ++totals.passed;
    if (verbose) {
      std::printf("%-8llu %-9s %10.1f %10llu %8.2f %7llu %9llu %6llu\n",
                  static_cast<unsigned long long>(seed), passed ? "ok" : "FAILED",
                  seconds(outcome.endTime.time_since_epoch()),
                  static_cast<unsigned long long>(outcome.steps), seconds(seedWall.elapsed()) * 1e3,
                  static_cast<unsigned long long>(stats.pauses),
                  static_cast<unsigned long long>(stats.detections),
                  static_cast<unsigned long long>(stats.falseSuspicions));
    }
    if (!passed) {
      std::string why = outcome.ok() ? stats.violations.front() : outcome.message;
      totals.failures.push_back(absl::StrFormat("seed %d: %s\n    reproduce: %s", seed, why,
                                                reproduceCommand(argv[0], seed, options)));
    }
    if (!verbose && seeds >= 5000 && (i + 1) % progressEvery == 0) {
      std::fprintf(stderr, "  ... %lld/%lld seeds, %.1f s\n", static_cast<long long>(i + 1),
                   static_cast<long long>(seeds), seconds(wall.elapsed()));
    }
  }
  printSummary(totals, wall.elapsed(), options);
  // Assertions, over all seeds: a sometimes holds if it held in any seed.
  const moonpool::AssertionReport report = moonpool::collectAssertionReport();
  const std::vector<moonpool::ContractBreach> breaches = moonpool::validateContracts(report);
  std::printf("\nAssertions (all seeds)\n%s", moonpool::renderText(report).c_str());
  if (!breaches.empty()) {
    std::printf("\n%zu assertion contract(s) broken over these seeds.\n", breaches.size());
    if (totals.failures.empty()) return 1;
  }
  if (!totals.failures.empty()) {
    std::printf("\nFailing seeds (build %s):\n", MOONPOOL_BUILD_ID);
    for (const std::string& f : totals.failures) std::printf("  %s\n", f.c_str());
    return 1;
  }
  std::printf("\nAll %llu seeds passed.\n", static_cast<unsigned long long>(totals.seeds));
  return 0;
}
