// Goal: the replicated KV store survives full chaos — swarm network and storage faults,
// attrition reboots (graceful, crash, crash-and-wipe) and pauses, partitions, clogs and
// buggify — on many seeds with no framework error and no broken property, talking Cap'n
// Proto RPC through reconnecting, failure-monitored peers; and the chaos really reaches the
// recovery paths, of the store and of the RPC layer.
// Method: run seeds through runKvSeed() in two shards (two ctest tests, so they run in parallel).
// Every seed must complete (RunStatus::kCompleted) and pass: no failed assertion of the service, no
// read that breaks the client's linearizability checks (client.h), and every acknowledged write
// read back at the end. A failing seed is run again with tracing to print its last timeline events.
// Each shard then checks that every MOONPOOL_SOMETIMES of the example held in one of its seeds —
// the store's (backup catch-up from the primary and from the other backup, a primary rebuilt after
// a wipe, a corrupt frame caught; a torn log tail cut is too rare to be sure of in one shard, see
// rareSites()) and the RPC layer's (a peer reconnected, an idempotent call resent, a call timed
// out, the failure monitor marking a peer failed and seeing it recover, a call failing fast, a
// client seeing a maybe-delivered error) — that the expected sites are all there, and that the
// matching counters are non-zero.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "kv_sim.h"
#include "moonpool/assertions/report.h"
#include "moonpool/assertions/table.h"

namespace moonpool::kv {
namespace {

// Sized for the Debug build: a seed costs about 0.25 s of CPU there (Cap'n Proto RPC and
// the pings of six peers: some ten times the steps of the hand-written frames the example
// used before), so two shards of 80 seeds take about 40 s on two busy cores.
constexpr std::uint64_t kSeedsPerShard = 80;
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
    counters.maybeDelivered += r.counters.maybeDelivered;
    counters.failFast += r.counters.failFast;
    counters.reconnects += r.counters.reconnects;
    counters.resends += r.counters.resends;
    counters.peerFailures += r.counters.peerFailures;
    counters.peerRecoveries += r.counters.peerRecoveries;
    counters.callTimeouts += r.counters.callTimeouts;
    counters.callsFailedFast += r.counters.callsFailedFast;
    counters.connectionsLost += r.counters.connectionsLost;
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

void printTotals(std::uint64_t first, const Totals& t) {
  const KvCounters& c = t.counters;
  std::printf(
      "seeds %llu..%llu: %.0f simulated s, %llu steps, %llu faults, %llu puts acked, %llu gets "
      "checked; client requests: %llu timed out, %llu maybe delivered, %llu failed fast; "
      "peers: %llu reconnects, %llu resends, %llu marked failed, %llu recovered, %llu call "
      "timeouts, %llu calls failed fast, %llu connections lost under a call, %llu corrupt "
      "frames; store: %llu log tails cut, %llu primary recoveries (%llu entries fetched), %llu "
      "backup catch-ups, %llu entries copied between backups, %llu local restarts\n",
      static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + kSeedsPerShard - 1),
      static_cast<double>(t.simulated.count()) / 1e9, static_cast<unsigned long long>(t.steps),
      static_cast<unsigned long long>(t.faults), static_cast<unsigned long long>(t.putsAcked),
      static_cast<unsigned long long>(t.getsChecked),
      static_cast<unsigned long long>(c.requestTimeouts),
      static_cast<unsigned long long>(c.maybeDelivered),
      static_cast<unsigned long long>(c.failFast), static_cast<unsigned long long>(c.reconnects),
      static_cast<unsigned long long>(c.resends), static_cast<unsigned long long>(c.peerFailures),
      static_cast<unsigned long long>(c.peerRecoveries),
      static_cast<unsigned long long>(c.callTimeouts),
      static_cast<unsigned long long>(c.callsFailedFast),
      static_cast<unsigned long long>(c.connectionsLost),
      static_cast<unsigned long long>(c.corruptFrames),
      static_cast<unsigned long long>(c.logTruncations),
      static_cast<unsigned long long>(c.recoveries),
      static_cast<unsigned long long>(c.entriesFetched),
      static_cast<unsigned long long>(c.backupCatchUps),
      static_cast<unsigned long long>(c.peerCopies),
      static_cast<unsigned long long>(c.localRestarts));
}

// The counters behind the RPC layer's sometimes-assertions, summed over the shard.
void expectChaosReachedTheRecoveryPaths(const KvCounters& c) {
  EXPECT_GT(c.reconnects, 0u) << "no peer ever reconnected";
  EXPECT_GT(c.resends, 0u) << "no idempotent call was ever resent after a reconnect";
  EXPECT_GT(c.peerFailures, 0u) << "the failure monitor never marked a peer failed";
  EXPECT_GT(c.peerRecoveries, 0u) << "no peer marked failed ever recovered";
  EXPECT_GT(c.callTimeouts, 0u) << "no call ever timed out";
  EXPECT_GT(c.callsFailedFast, 0u) << "no call ever failed fast";
  EXPECT_GT(c.requestTimeouts, 0u) << "no client request ever timed out";
  EXPECT_GT(c.maybeDelivered, 0u) << "no client ever saw a maybe-delivered error";
  EXPECT_GT(c.failFast, 0u) << "no client request ever failed fast";
  EXPECT_GT(c.corruptFrames, 0u) << "no corrupt frame was ever caught";
  EXPECT_GT(c.recoveries, 0u);
}

// Reached in every shard but true only in about one seed in 60 (measured: 9 in 500 seeds
// before the RPC rewrite, 2 in 160 after), too rare for a shard of kSeedsPerShard to be
// sure of: a crash must land between a log write and its sync. kv_sim_test's
// KvScenario.TornLogTailsAreCutAtBootAndRefilled forces it instead (slow syncs, every
// crash tears).
const std::set<std::string>& rareSites() {
  static const std::set<std::string> sites = {"a torn log tail was truncated on boot"};
  return sites;
}

// Every sometimes-assertion of the example held in some seed of the shard (the rare ones
// at least ran), and the ones this test is about are all registered (a renamed or deleted
// site is noticed).
void expectEverySometimesHeld(std::uint64_t first) {
  const std::set<std::string> expected = {
      "a backup that was behind caught up",
      "the primary recovered from backups after a wipe",
      "a torn log tail was truncated on boot",
      "a backup copied entries from the other backup while the primary was away",
      "a corrupt frame was detected and the connection closed",
      "a call reached its deadline",
      "a call failed fast while its peer was failed",
      "a peer reconnected after its connection ended",
      "an idempotent call was resent on a new connection",
      "the failure monitor marked a peer failed",
      "a peer marked failed answered again (recovered)",
      "a request timed out and was retried",
      "a client reconnected after a failure",
      "a client request failed 'maybe delivered' (the server may have acted on it)",
      "a client request failed fast: the failure monitor had the primary failed",
  };
  std::set<std::string> seen;
  for (const SiteResult& site : collectAssertionReport().sites) {
    if (site.file.find("examples/kv/") == std::string::npos) continue;
    if (site.kind == AssertKind::kSometimes) seen.insert(site.message);
    if (rareSites().count(site.message) != 0 && site.status == SiteStatus::kNeverTrue) {
      std::printf("rare: '%s' did not happen in this shard\n", site.message.c_str());
      continue;
    }
    EXPECT_EQ(site.status, SiteStatus::kPass)
        << site.file << ":" << site.line << " '" << site.message << "' is "
        << siteStatusName(site.status) << " over seeds " << first << ".."
        << first + kSeedsPerShard - 1;
  }
  EXPECT_EQ(seen, expected) << "the example's sometimes-assertions are not the expected ones";
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
  printTotals(first, totals);
  EXPECT_GT(totals.putsAcked, 20 * kSeedsPerShard) << "the workload barely ran";
  expectChaosReachedTheRecoveryPaths(totals.counters);
  expectEverySometimesHeld(first);
}

INSTANTIATE_TEST_SUITE_P(Seeds, KvChaos, ::testing::Range(std::uint64_t{0}, kShards),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           const std::uint64_t first = info.param * kSeedsPerShard + 1;
                           return "seeds_" + std::to_string(first) + "_to_" +
                                  std::to_string(first + kSeedsPerShard - 1);
                         });

}  // namespace
}  // namespace moonpool::kv
