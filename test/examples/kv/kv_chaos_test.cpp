// Goal: the replicated KV store survives full chaos — swarm network and storage faults,
// attrition reboots (graceful, crash, crash-and-wipe) and pauses, partitions, clogs and
// buggify — on many seeds with no framework error and no broken property, talking Cap'n
// Proto RPC through reconnecting, failure-monitored peers; and the chaos really reaches the
// recovery paths, of the store and of the RPC layer.
// Method: run the kv_sim binary (the store on the standard runner, kv_sim.h kvBuilder) on
// two shards of seeds (two ctest tests, so they run in parallel) and read its JSON report
// (runtime/runner/REPORT_FORMATS.md). Every seed must pass: no failed assertion of the
// service, no read that breaks the client's linearizability checks (client.h), every
// acknowledged write read back at the end; a failing seed is shown with its reproduction
// line (kv_sim --seed=S --build=ID, replayable with --trace). Each shard then checks that
// every MOONPOOL_SOMETIMES of the example held in one of its seeds — the store's (backup
// catch-up from the primary and from the other backup, a primary rebuilt after a wipe, a
// corrupt frame caught; a torn log tail cut is too rare to be sure of in one shard, see
// rareSites()) and the RPC layer's (a peer reconnected, an idempotent call resent, a call
// timed out, the failure monitor marking a peer failed and seeing it recover, a call failing
// fast, a client seeing a maybe-delivered error) — that the expected sites are all there,
// and that the matching counters (the workload's metrics) are non-zero.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/command.h"

namespace moonpool::kv {
namespace {

using Json = nlohmann::json;
using test_support::quote;

// Sized for the Debug build: a seed costs about 0.25 s of CPU there (Cap'n Proto RPC and
// the pings of six peers), so two shards of 80 seeds take about 40 s on two busy cores.
constexpr std::uint64_t kSeedsPerShard = 80;
constexpr std::uint64_t kShards = 2;

// Reached in every shard but true only in about one seed in 60 (measured: 9 in 500 seeds
// before the RPC rewrite, 2 in 160 after), too rare for a shard of kSeedsPerShard to be
// sure of: a crash must land between a log write and its sync. kv_sim_test's
// KvScenario.TornLogTailsAreCutAtBootAndRefilled forces it instead (slow syncs, every
// crash tears).
const std::set<std::string>& rareSites() {
  static const std::set<std::string> sites = {"a torn log tail was truncated on boot"};
  return sites;
}

const std::set<std::string>& expectedSometimes() {
  static const std::set<std::string> expected = {
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
  return expected;
}

std::int64_t metric(const Json& report, const std::string& name) {
  const Json& metrics = report.at("metrics");
  return metrics.contains(name) ? metrics.at(name).at("value").get<std::int64_t>() : 0;
}

// The workload's counters behind the RPC layer's and the store's sometimes-assertions.
void expectChaosReachedTheRecoveryPaths(const Json& report) {
  for (const char* name :
       {"rpc reconnects", "rpc resends", "rpc peers marked failed", "rpc peers recovered",
        "rpc call timeouts", "rpc calls failed fast", "client request timeouts",
        "client maybe delivered", "client failed fast", "rpc corrupt frames",
        "store primary recoveries"}) {
    EXPECT_GT(metric(report, name), 0) << "never happened over the shard: " << name;
  }
  EXPECT_GT(metric(report, "puts acked"), static_cast<std::int64_t>(20 * kSeedsPerShard))
      << "the workload barely ran";
}

// Every sometimes-assertion of the example held in some seed of the shard (the rare ones at
// least ran), and the ones this test is about are all registered (a renamed or deleted site
// is noticed).
void expectEverySometimesHeld(const Json& report) {
  std::set<std::string> seen;
  for (const Json& site : report.at("assertions").at("sites")) {
    const std::string file = site.at("file").get<std::string>();
    const std::string message = site.at("message").get<std::string>();
    const std::string status = site.at("status").get<std::string>();
    if (file.find("examples/kv/") == std::string::npos) continue;
    if (site.at("kind") == "sometimes") seen.insert(message);
    if (rareSites().count(message) != 0 && status == "never true") {
      std::printf("rare: '%s' did not happen in this shard\n", message.c_str());
      continue;
    }
    EXPECT_EQ(status, "pass") << file << ":" << site.at("line") << " '" << message << "'";
  }
  EXPECT_EQ(seen, expectedSometimes())
      << "the example's sometimes-assertions are not the expected ones";
}

class KvChaos : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(KvChaos, EverySeedCompletesAndKeepsItsProperties) {
  const std::uint64_t first = GetParam() * kSeedsPerShard + 1;
  const std::string dir = test_support::freshWorkDir(KV_WORK_ROOT, "chaos");
  const std::string path = dir + "/report.json";
  const test_support::CommandResult run = test_support::runCommand(
      quote(KV_SIM) + " --noprogress --first_seed=" + std::to_string(first) +
      " --seeds=" + std::to_string(kSeedsPerShard) + " --json=" + quote(path));
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "no JSON report; kv_sim said:\n" << run.output;
  const Json report = Json::parse(in);
  const Json& totals = report.at("totals");
  EXPECT_EQ(totals.at("seeds"), kSeedsPerShard);
  EXPECT_EQ(totals.at("failed"), 0) << run.output;
  for (const Json& seed : report.at("failing_seeds")) {
    ADD_FAILURE() << "seed " << seed.at("seed") << " failed ("
                  << seed.at("failure").get<std::string>()
                  << "): " << seed.at("message").get<std::string>()
                  << "\nreproduce (add --trace for its events): "
                  << seed.at("reproduce").get<std::string>();
  }
  std::printf("seeds %llu..%llu: %.0f simulated s, %llu steps; %s\n",
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + kSeedsPerShard - 1),
              totals.at("simulated_s").get<double>(), totals.at("steps").get<unsigned long long>(),
              report.at("metrics").dump().c_str());
  expectChaosReachedTheRecoveryPaths(report);
  expectEverySometimesHeld(report);
  // Only the rare sites may be contract gaps: anything else failed above too.
  for (const Json& breach : report.at("assertions").at("breaches")) {
    const std::string message = breach.at("message").get<std::string>();
    if (rareSites().count(message) != 0) continue;
    ADD_FAILURE() << "contract breach " << breach.at("breach").get<std::string>() << " at "
                  << breach.at("file").get<std::string>() << ":" << breach.at("line") << " '"
                  << message << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, KvChaos, ::testing::Range(std::uint64_t{0}, kShards),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           const std::uint64_t first = info.param * kSeedsPerShard + 1;
                           return "seeds_" + std::to_string(first) + "_to_" +
                                  std::to_string(first + kSeedsPerShard - 1);
                         });

}  // namespace
}  // namespace moonpool::kv
