// Goal: the runner's report renders every section a person and a machine need, the JSON is
// well-formed with every string escaped and always valid UTF-8, reproduction lines are valid
// shell and carry the build, the exit code follows seeds, contracts and interruption, and
// the report keeps a bounded number of seeds whatever the run's length.
// Method: build RunReports by hand (no simulation needed), render them, parse the JSON back
// with a strict minimal parser and compare fields; check text sections by content.
#include <gtest/gtest.h>

#include <string>

#include "json_check.h"
#include "moonpool/runner/report.h"

namespace moonpool {
namespace {

using runner_testing::JsonValue;
using runner_testing::parseJson;

SeedResult passing(std::uint64_t index, std::uint64_t seed) {
  SeedResult s;
  s.index = index;
  s.seed = seed;
  s.wall = std::chrono::milliseconds(3);
  s.simulated = std::chrono::seconds(60);
  s.steps = 1000;
  s.decisionHash = 0xfeedfacecafebeefull;
  s.faultCounts = {{"net.partition", 2}};
  s.metrics = {{"adds", Metric{.kind = Metric::Kind::kSum, .value = 20}}};
  s.config = "network: quiet\n";
  return s;
}

RunReport sampleReport() {
  RunReport r;
  r.name = "kv";
  r.buildId = "0123456789abcdef";
  r.command = "./kv_sim";
  r.reproFlags = {"--nodes=3"};
  r.iteration = "fixed count: 2 seeds";
  r.stopReason = "fixed count reached";
  r.coverageSignal = "assertion coverage";
  r.coverageValue = 7;
  r.addSeed(passing(0, 6));
  SeedResult bad = passing(1, 7);
  bad.verdict = SeedVerdict::kFail;
  bad.failure = SeedFailure::kCheck;
  bad.message = "workload 'client': counter is \"11\",\texpected 10\nsecond line \x01 end";
  bad.config = "network: chaotic\nstorage: fast\n";
  bad.trace = {"  1.000000000s  net.partition  10.0.1.1->10.0.1.2"};
  r.addSeed(bad);
  r.wall = std::chrono::milliseconds(10);
  r.faultCounts = {{"net.partition", 4}, {"process.crash", 1}};
  r.metrics = {{"adds", Metric{.kind = Metric::Kind::kSum, .value = 40}}};
  r.buggify = {BuggifySiteTotal{.file = "kv.cpp",
                                .line = 12,
                                .seedsEvaluated = 2,
                                .seedsActive = 1,
                                .evaluated = 30,
                                .fired = 5}};
  return r;
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(RunnerReportTest, TextHasEverySection) {
  const RunReport r = sampleReport();
  const std::string text = renderReportText(r);
  for (const char* needle : {"moonpool simulation 'kv' (build 0123456789abcdef)",
                             "iteration: fixed count: 2 seeds",
                             "seeds run        2 (1 passed, 1 failed)",
                             "stopped          fixed count reached",
                             "simulated time   120.0 s total, 60.0 s per seed",
                             "events (steps)   2000 total",
                             "sim / wall",
                             "seeds / s",
                             "Workload metrics",
                             "adds             40 (sum)",
                             "Faults fired (all seeds)",
                             "net.partition    4",
                             "process.crash    1",
                             "Buggify sites (all seeds)",
                             "kv.cpp:12  evaluated in 2 seeds, active in 1, fired 5 of 30",
                             "Assertions (all seeds)",
                             "Configuration of the first failing seed (7)",
                             "  network: chaotic",
                             "Failing seeds (build 0123456789abcdef)",
                             "seed 7: check: workload 'client': counter is \"11\",\texpected 10",
                             "    second line",
                             "reproduce: ./kv_sim --seed=7 --nodes=3 --build=0123456789abcdef",
                             "net.partition  10.0.1.1->10.0.1.2",
                             "FAILED: 1 of 2 seeds failed"}) {
    EXPECT_TRUE(has(text, needle)) << "missing: " << needle << "\n" << text;
  }
  // Passing seeds are listed only in the verbose table.
  EXPECT_FALSE(has(text, "\n6 "));
  const std::string verbose =
      renderReportText(r, TextReportOptions{.seedTable = TextReportOptions::SeedTable::kEverySeed});
  EXPECT_TRUE(has(verbose, renderSeedLine(r.seeds[0]))) << verbose;
  EXPECT_TRUE(has(renderSeedLine(r.seeds[1]), "FAIL")) << renderSeedLine(r.seeds[1]);
}

TEST(RunnerReportTest, JsonIsWellFormedAndComplete) {
  const RunReport r = sampleReport();
  std::string error;
  const std::optional<JsonValue> json = parseJson(renderReportJson(r), error);
  ASSERT_TRUE(json.has_value()) << error << "\n" << renderReportJson(r);
  ASSERT_EQ(json->type, JsonValue::Type::kObject);
  for (const char* key :
       {"format", "version", "verdict", "interrupted", "seeds_not_kept", "failing_seeds_not_kept",
        "name", "build_id", "command", "iteration", "stop_reason", "jobs", "coverage_signal",
        "coverage_value", "passed", "exit_code", "totals", "seeds", "failing_seeds",
        "first_failure_config", "faults", "metrics", "buggify", "assertions"}) {
    EXPECT_NE(json->get(key), nullptr) << key;
  }
  EXPECT_EQ(json->get("format")->text, "moonpool.run_report");
  EXPECT_EQ(json->get("version")->number, kReportJsonVersion);
  EXPECT_EQ(json->get("verdict")->text, "fail");
  EXPECT_EQ(json->get("exit_code")->number, 1);
  EXPECT_FALSE(json->get("passed")->boolean);
  EXPECT_EQ(json->get("totals")->get("seeds")->number, 2);
  EXPECT_EQ(json->get("totals")->get("failed")->number, 1);
  ASSERT_EQ(json->get("seeds")->items.size(), 2u);
  const JsonValue& bad = json->get("seeds")->items[1];
  EXPECT_EQ(bad.get("seed")->number, 7);
  EXPECT_EQ(bad.get("verdict")->text, "fail");
  EXPECT_EQ(bad.get("failure")->text, "check");
  EXPECT_EQ(bad.get("message")->text, r.seeds[1].message);  // escapes round-trip exactly
  EXPECT_EQ(bad.get("decision_hash")->text, "feedfacecafebeef");
  EXPECT_EQ(bad.get("trace")->items.size(), 1u);
  ASSERT_EQ(json->get("failing_seeds")->items.size(), 1u);
  EXPECT_EQ(json->get("failing_seeds")->items[0].get("reproduce")->text,
            "./kv_sim --seed=7 --nodes=3 --build=0123456789abcdef");
  EXPECT_EQ(json->get("first_failure_config")->text, "network: chaotic\nstorage: fast\n");
  EXPECT_EQ(json->get("faults")->get("net.partition")->number, 4);
  EXPECT_EQ(json->get("metrics")->get("adds")->get("value")->number, 40);
  EXPECT_EQ(json->get("buggify")->items[0].get("fired")->number, 5);
  EXPECT_EQ(json->get("assertions")->type, JsonValue::Type::kObject);
}

TEST(RunnerReportTest, ReproductionLinesAreShellWords) {
  RunReport r = sampleReport();
  r.command = "/tmp/my sims/kv";
  r.reproFlags = {"--label=it's", "--nodes=3"};
  EXPECT_EQ(r.reproduction(r.seeds[1]),
            "'/tmp/my sims/kv' --seed=7 '--label=it'\\''s' --nodes=3 --build=0123456789abcdef");
  r.reproTemplate = "MOONPOOL_SEED={seed} /bin/t --gtest_filter=A.B";
  EXPECT_EQ(r.reproduction(r.seeds[1]), "MOONPOOL_SEED=7 /bin/t --gtest_filter=A.B");
}

ContractBreach breach(BreachKind kind) {
  return ContractBreach{.breach = kind,
                        .kind = AssertKind::kSometimes,
                        .message = "m",
                        .file = "f.cpp",
                        .line = 1,
                        .hits = 0,
                        .passes = 0,
                        .fails = 0,
                        .summary = "s"};
}

TEST(RunnerReportTest, ExitCodeFollowsSeedsAndContracts) {
  EXPECT_EQ(sampleReport().exitCode(), RunReport::kExitBug);  // a failing seed
  RunReport r;
  r.addSeed(passing(0, 6));
  EXPECT_EQ(r.exitCode(), RunReport::kExitPassed);
  r.breaches = {breach(BreachKind::kNeverReached)};
  EXPECT_EQ(r.exitCode(), RunReport::kExitCoverageGap);  // enforced by default
  EXPECT_TRUE(has(renderReportText(r), "COVERAGE GAP: no bug, but 1 assertion contract(s) "
                                       "missed in 1 seeds (exit 3)."));
  r.coverage = CoverageContracts::kReachedOnly;
  EXPECT_EQ(r.exitCode(), RunReport::kExitPassed);  // another simulation's site
  r.breaches.push_back(breach(BreachKind::kNeverTrue));
  EXPECT_EQ(r.exitCode(), RunReport::kExitCoverageGap);  // reached here, never held
  r.stoppedAtFirstBug = true;
  EXPECT_EQ(r.exitCode(), RunReport::kExitPassed) << "a run cut short owes no coverage";
  r.stoppedAtFirstBug = false;
  r.coverage = CoverageContracts::kReportOnly;
  EXPECT_EQ(r.exitCode(), RunReport::kExitPassed);
  r.breaches.push_back(breach(BreachKind::kAlwaysViolated));
  EXPECT_EQ(r.exitCode(), RunReport::kExitBug);  // a definite bug fails whatever the policy
  r.coverage = CoverageContracts::kEnforce;
  EXPECT_EQ(r.exitCode(), RunReport::kExitBug) << "a bug outranks a coverage gap";
  r.interrupted = true;
  EXPECT_EQ(r.exitCode(), RunReport::kExitInterrupted);
  r.interrupted = false;
  EXPECT_TRUE(has(renderReportText(r), "FAILED: 0 of 1 seeds failed, 3 assertion contract(s)"));
}

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), checked independently of the runner's own sanitizer.
bool isUtf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    std::uint32_t code = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      code = (code << 6) | (d & 0x3f);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < min[n] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

TEST(RunnerReportTest, JsonAndJunitAreValidUtf8WhateverTheMessages) {
  RunReport r = sampleReport();
  SeedResult raw = passing(2, 8);
  raw.verdict = SeedVerdict::kFail;
  raw.failure = SeedFailure::kAssertion;
  raw.message = std::string("bytes \xff\xfe, a lone \xc3, overlong \xc0\xaf, surrogate ") +
                "\xed\xa0\x80 and fine \xc3\xa9";
  r.addSeed(raw);
  const std::string json = renderReportJson(r);
  EXPECT_TRUE(isUtf8(json));
  std::string error;
  const std::optional<JsonValue> parsed = parseJson(json, error);
  ASSERT_TRUE(parsed.has_value()) << error;
  const std::string message = parsed->get("failing_seeds")->items[1].get("message")->text;
  EXPECT_TRUE(has(message, "bytes \xef\xbf\xbd\xef\xbf\xbd,")) << message;
  EXPECT_TRUE(has(message, "fine \xc3\xa9")) << message;
  const std::string junit = renderReportJunit(r);
  EXPECT_TRUE(isUtf8(junit));
  EXPECT_FALSE(has(junit, "\x01")) << "a control character XML 1.0 forbids";
  EXPECT_TRUE(has(junit, "<testcase classname=\"kv\" name=\"seed 8\""));
}

TEST(RunnerReportTest, SeedsKeptAreBoundedWhateverTheRunLength) {
  RunReport r;
  const std::uint64_t total = 20'000;
  for (std::uint64_t i = 0; i < total; ++i) {
    SeedResult s = passing(i, i);
    if (i % 7 == 3) {
      s.verdict = SeedVerdict::kFail;
      s.failure = SeedFailure::kCheck;
      s.message = "planted";
    }
    r.addSeed(std::move(s));
  }
  r.sortSeeds();
  const std::uint64_t failing = (total + 3) / 7;
  EXPECT_EQ(r.seedCount(), total);
  EXPECT_EQ(r.failedCount(), failing);
  EXPECT_EQ(r.passedCount(), total - failing);
  EXPECT_EQ(r.stepsTotal(), total * 1000);
  EXPECT_LE(r.seeds.size(), RunReport::kSeedsSampleMax + RunReport::kFailingSeedsKeptMax);
  EXPECT_EQ(r.seedsNotKept, total - r.seeds.size());
  EXPECT_EQ(r.failingSeedsKept + r.failingSeedsNotKept, failing);
  EXPECT_EQ(r.failingSeedsKept, RunReport::kFailingSeedsKeptMax);
  EXPECT_TRUE(has(renderReportText(r), "more failing seeds, printed as they failed"));
}

TEST(RunnerReportTest, SeedsKeptDoNotDependOnTheOrderTheyComeIn) {
  // Workers (--jobs) and merged shards deliver seeds out of index order: the same lowest
  // indices and lowest failing indices are kept either way.
  const auto seedAt = [](std::uint64_t i) {
    SeedResult s = passing(i, i);
    if (i % 5 == 2) {
      s.verdict = SeedVerdict::kFail;
      s.failure = SeedFailure::kCheck;
      s.message = "planted";
    }
    return s;
  };
  const std::uint64_t total = 8'000;
  RunReport inOrder;
  RunReport shuffled;
  for (std::uint64_t i = 0; i < total; ++i) inOrder.addSeed(seedAt(i));
  // Blocks of 7 in reverse order: every seed arrives before some of lower index.
  for (std::uint64_t block = 0; block < total; block += 7) {
    for (std::uint64_t i = std::min(block + 7, total); i-- > block;) shuffled.addSeed(seedAt(i));
  }
  std::vector<std::uint64_t> a;
  std::vector<std::uint64_t> b;
  for (const SeedResult& s : inOrder.seeds) a.push_back(s.index);
  for (const SeedResult& s : shuffled.seeds) b.push_back(s.index);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), RunReport::kSeedsSampleMax + RunReport::kFailingSeedsKeptMax -
                          RunReport::kSeedsSampleMax / 5);
  EXPECT_EQ(shuffled.failingSeedsKept, RunReport::kFailingSeedsKeptMax);
  EXPECT_EQ(shuffled.seedsNotKept, total - b.size());
  EXPECT_EQ(shuffled.failingSeedsNotKept, total / 5 - RunReport::kFailingSeedsKeptMax);
}

TEST(RunnerReportTest, AnInterruptedRunSaysSoAndExits130) {
  RunReport r = sampleReport();
  r.interrupted = true;
  r.breaches = {breach(BreachKind::kNeverReached)};
  EXPECT_EQ(r.exitCode(), 130);
  EXPECT_TRUE(r.failingBreaches().empty()) << "a run cut short is not held to coverage";
  EXPECT_TRUE(has(renderReportText(r), "INTERRUPTED: the report covers the 2 seeds finished"));
  std::string error;
  const std::optional<JsonValue> json = parseJson(renderReportJson(r), error);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(json->get("verdict")->text, "interrupted");
  EXPECT_TRUE(json->get("interrupted")->boolean);
  EXPECT_EQ(json->get("exit_code")->number, 130);
  EXPECT_TRUE(has(renderReportJunit(r), "<error type=\"interrupted\""));
}

TEST(RunnerReportTest, AnExploredBugFailsItsSeedEverywhere) {
  RunReport r;
  r.name = "maze";
  r.command = "./maze_sim";
  r.buildId = "00ff";
  r.explored = true;
  SeedResult s = passing(0, 4);
  s.verdict = SeedVerdict::kFail;
  s.failure = SeedFailure::kExplored;
  s.message = "a timeline explored from this seed found a bug (correctness, depth 3): opened";
  s.exploration = SeedExploration{.bugFound = true,
                                  .bugClass = "correctness",
                                  .bugMessage = "opened",
                                  .recipe = "4 + 10@1f -> 3@2e",
                                  .bugDepth = 3};
  s.exploration->stats.timelines = 50;
  s.exploration->stats.bugs = 2;
  r.addSeed(s);
  EXPECT_EQ(r.failedCount(), 1u);
  EXPECT_EQ(r.exploredBugCount(), 1u);
  EXPECT_EQ(r.exitCode(), 1);
  EXPECT_EQ(r.reproduction(r.seeds[0]), "./maze_sim --replay='4 + 10@1f -> 3@2e' --build=00ff");
  const std::string text = renderReportText(r);
  EXPECT_TRUE(has(text, "seeds run        1 (0 passed, 1 failed, 1 of them through explored"));
  EXPECT_TRUE(has(text, "FAILED: 1 of 1 seeds failed (1 through explored timelines)")) << text;
  EXPECT_TRUE(has(text, "    recipe: 4 + 10@1f -> 3@2e\n")) << text;
  std::string error;
  const std::optional<JsonValue> json = parseJson(renderReportJson(r), error);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(json->get("seeds")->items[0].get("verdict")->text, "fail");
  EXPECT_EQ(json->get("failing_seeds")->items.size(), 1u);
  EXPECT_EQ(json->get("failing_seeds")->items[0].get("recipe")->text, "4 + 10@1f -> 3@2e");
  EXPECT_EQ(json->get("exploration")->get("timelines")->number, 50);
}

TEST(RunnerReportTest, MetricsMergeBySumOrMax) {
  std::map<std::string, Metric> m;
  mergeMetric(m, "sum", Metric{.kind = Metric::Kind::kSum, .value = 2});
  mergeMetric(m, "sum", Metric{.kind = Metric::Kind::kSum, .value = 3});
  mergeMetric(m, "max", Metric{.kind = Metric::Kind::kMax, .value = 9});
  mergeMetric(m, "max", Metric{.kind = Metric::Kind::kMax, .value = 4});
  EXPECT_EQ(m["sum"].value, 5);
  EXPECT_EQ(m["max"].value, 9);
}

}  // namespace
}  // namespace moonpool
