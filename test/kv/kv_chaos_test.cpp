// Goal: the replicated KV store survives full chaos — swarm network and storage faults,
// attrition reboots (graceful, crash, crash-and-wipe) and pauses, partitions, clogs and
// buggify — on 1,000 seeds with no framework error and no broken property, and the chaos
// really reaches the recovery paths.
// Method: run seeds 1..1000 through runKvSeed() in two shards of 500 (two ctest tests, so
// they run in parallel). Every seed must complete (RunStatus::kCompleted) and pass: no
// failed assertion of the service, no bad read, and every acknowledged write read back at
// the end. A failing seed is run again with tracing to print its last timeline events.
// Each shard then checks that every MOONPOOL_SOMETIMES of the service held in one of its
// seeds (timeouts and retries, reconnects, backup catch-up from the primary and from the
// other backup, a primary rebuilt after a wipe, a corrupt frame caught, a torn log tail
// cut), and prints its totals.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kv_sim.h"
#include "moonpool/assertions/report.h"
#include "moonpool/assertions/table.h"

namespace moonpool::kv {
namespace {

constexpr std::uint64_t kSeedsPerShard = 500;
constexpr std::uint64_t kShards = 2;
constexpr std::size_t kTraceTailEvents = 40;

struct Totals {
  std::uint64_t seeds = 0;
  Duration simulated{0};
  std::uint64_t steps = 0;
  std::uint64_t faults = 0;
  std::uint64_t putsAcked = 0;
  std::uint64_t getsChecked = 0;
  KvCounters counters;

  void add(const KvSeedResult& r) {
    ++seeds;
    simulated += r.run.endTime.time_since_epoch();
    steps += r.run.steps;
    faults += r.faults;
    putsAcked += r.putsAcked;
    getsChecked += r.getsChecked;
    counters.requestTimeouts += r.counters.requestTimeouts;
    counters.reconnects += r.counters.reconnects;
    counters.corruptFrames += r.counters.corruptFrames;
    counters.logTruncations += r.counters.logTruncations;
    counters.recoveries += r.counters.recoveries;
    counters.entriesFetched += r.counters.entriesFetched;
    counters.backupCatchUps += r.counters.backupCatchUps;
    counters.peerCopies += r.counters.peerCopies;
    counters.localRestarts += r.counters.localRestarts;
  }
};

// The seed again, traced: its configuration and the last timeline events.
std::string explainFailure(std::uint64_t seed, const KvSeedResult& failed) {
  KvSimOptions traced;
  traced.trace = KvSimOptions::Trace::kOn;
  KvSeedResult again = runKvSeed(seed, traced);
  std::string out = "seed " + std::to_string(seed) + " failed (" +
                    std::string(runStatusName(failed.run.status)) + "):\n" + failed.reason +
                    "\nconfiguration:\n" + failed.configuration + "\nlast events:\n";
  const std::size_t from =
      again.events.size() > kTraceTailEvents ? again.events.size() - kTraceTailEvents : 0;
  for (std::size_t i = from; i < again.events.size(); ++i) out += again.events[i] + "\n";
  out += "reproduce: runKvSeed(" + std::to_string(seed) + ", KvSimOptions{})";
  return out;
}

class KvChaos : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(KvChaos, EverySeedCompletesAndKeepsItsProperties) {
  resetAssertionTable();
  const std::uint64_t first = GetParam() * kSeedsPerShard + 1;
  Totals totals;
  for (std::uint64_t seed = first; seed < first + kSeedsPerShard; ++seed) {
    KvSeedResult r = runKvSeed(seed, KvSimOptions{});
    totals.add(r);
    EXPECT_EQ(r.run.status, RunStatus::kCompleted) << "seed " << seed << ": " << r.run.message;
    if (!r.passed()) ADD_FAILURE() << explainFailure(seed, r);
  }
  std::printf(
      "seeds %llu..%llu: %.0f simulated s, %llu steps, %llu faults, %llu puts acked, %llu gets "
      "checked, %llu timeouts, %llu reconnects, %llu corrupt frames, %llu log tails cut, %llu "
      "primary recoveries (%llu entries fetched), %llu backup catch-ups, %llu entries copied "
      "between backups, %llu local restarts\n",
      static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + kSeedsPerShard - 1),
      static_cast<double>(totals.simulated.count()) / 1e9,
      static_cast<unsigned long long>(totals.steps), static_cast<unsigned long long>(totals.faults),
      static_cast<unsigned long long>(totals.putsAcked),
      static_cast<unsigned long long>(totals.getsChecked),
      static_cast<unsigned long long>(totals.counters.requestTimeouts),
      static_cast<unsigned long long>(totals.counters.reconnects),
      static_cast<unsigned long long>(totals.counters.corruptFrames),
      static_cast<unsigned long long>(totals.counters.logTruncations),
      static_cast<unsigned long long>(totals.counters.recoveries),
      static_cast<unsigned long long>(totals.counters.entriesFetched),
      static_cast<unsigned long long>(totals.counters.backupCatchUps),
      static_cast<unsigned long long>(totals.counters.peerCopies),
      static_cast<unsigned long long>(totals.counters.localRestarts));
  EXPECT_GT(totals.putsAcked, 20 * kSeedsPerShard) << "the workload barely ran";

  int sometimesSites = 0;
  for (const SiteResult& site : collectAssertionReport().sites) {
    if (site.file.find("examples/kv/") == std::string::npos) continue;
    if (site.kind == AssertKind::kSometimes) ++sometimesSites;
    EXPECT_EQ(site.status, SiteStatus::kPass)
        << site.file << ":" << site.line << " '" << site.message << "' is "
        << siteStatusName(site.status) << " over seeds " << first << ".."
        << first + kSeedsPerShard - 1;
  }
  EXPECT_EQ(sometimesSites, 7) << "the service's sometimes assertions were not all registered";
}

INSTANTIATE_TEST_SUITE_P(Seeds, KvChaos, ::testing::Range(std::uint64_t{0}, kShards),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           const std::uint64_t first = info.param * kSeedsPerShard + 1;
                           return "seeds_" + std::to_string(first) + "_to_" +
                                  std::to_string(first + kSeedsPerShard - 1);
                         });

}  // namespace
}  // namespace moonpool::kv
