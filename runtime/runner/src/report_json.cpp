// The run report as JSON (see runner/report.h; the format is documented in
// runtime/runner/REPORT_FORMATS.md). Field names are snake_case; durations are seconds as
// numbers; hashes are 16-digit hex strings (JSON numbers lose 64-bit precision).
//
// Written with nlohmann::json (Debian's nlohmann-json3-dev; header-only, a PRIVATE build
// dependency of the runner, so the installed package does not need it). ordered_json keeps
// fields in the order written here; dump() with error_handler_t::replace turns every invalid
// UTF-8 sequence of a user string (an assertion message, a check's violation) into U+FFFD,
// so the output is always valid UTF-8.
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "moonpool/runner/report.h"
#include "report_util.h"

namespace moonpool {
namespace {

using Json = nlohmann::ordered_json;
using internal::seconds;

std::string hex64(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, value);
  return buffer;
}

std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

Json counts(const std::map<std::string, std::uint64_t>& values) {
  Json out = Json::object();
  for (const auto& [name, count] : values) out[name] = count;
  return out;
}

Json metrics(const std::map<std::string, Metric>& values) {
  Json out = Json::object();
  for (const auto& [name, metric] : values) {
    out[name] = {{"kind", metric.kind == Metric::Kind::kSum ? "sum" : "max"},
                 {"value", metric.value}};
  }
  return out;
}

Json stats(const explorer::Stats& st) {
  return {{"timelines", st.timelines},       {"splits", st.splits},
          {"productive", st.productive},     {"bugs", st.bugs},
          {"signals", st.signals},           {"energy_left", st.energyLeft},
          {"pool_left", st.poolLeft},        {"barren_marks", st.barrenMarks},
          {"max_depth", st.depthReachedMax}, {"bitmap_bits", st.bitmapBits},
          {"edges_total", st.edgesTotal},    {"edges_covered", st.edgesCovered},
          {"mark_overflows", st.markOverflows}, {"respawned", st.respawned},
          {"hangs", st.hangs},
          {"candidate_overflows", st.candidateOverflows},
          {"job_overflows", st.jobOverflows},
          {"workers_run", st.workersRun},
          {"results_dropped", st.resultsDropped},
          {"jobs_cpu_ns", st.jobsCpuNs},
          {"critical_path_ns", st.criticalPathNs}};
}

Json exploration(const RunReport& report, const SeedExploration& e) {
  Json out = stats(e.stats);
  out["bug_found"] = e.bugFound;
  if (!e.bugFound) return out;
  out["bug_class"] = e.bugClass;
  out["bug_message"] = e.bugMessage;
  out["bug_depth"] = e.bugDepth;
  out["timelines_to_bug"] = e.timelinesToBug;
  out["wall_s_to_bug"] = seconds(e.wallToBug);
  out["recipe"] = e.recipe;
  out["replay"] = report.replayCommand(e);
  return out;
}

Json seedJson(const RunReport& report, const SeedResult& s) {
  Json out = {{"index", s.index},
              {"seed", s.seed},
              {"verdict", s.verdict == SeedVerdict::kPass ? "pass" : "fail"},
              {"failure", seedFailureName(s.failure)},
              {"message", s.message},
              {"wall_s", seconds(s.wall)},
              {"simulated_s", seconds(s.simulated)},
              {"steps", s.steps},
              {"decision_hash", hex64(s.decisionHash)},
              {"random_calls", s.randomCalls},
              {"assertion_failures", s.assertionFailures},
              {"faults", counts(s.faultCounts)},
              {"metrics", metrics(s.metrics)},
              {"config", s.config}};
  if (s.verdict == SeedVerdict::kFail) out["reproduce"] = report.reproduction(s);
  if (!s.replayedRecipe.empty()) out["replayed_recipe"] = s.replayedRecipe;
  if (s.exploration) out["exploration"] = exploration(report, *s.exploration);
  out["trace"] = s.trace;
  return out;
}

Json totals(const RunReport& r) {
  const double wallS = seconds(r.wall);
  const double simS = seconds(r.simulatedTotal());
  const auto perWall = [wallS](double value) { return wallS > 0 ? value / wallS : 0.0; };
  return {{"seeds", r.seedCount()},
          {"passed", r.passedCount()},
          {"failed", r.failedCount()},
          {"explored_bug_seeds", r.exploredBugCount()},
          {"explored_seeds", r.totals.exploredSeeds},
          {"wall_s", wallS},
          {"simulated_s", simS},
          {"steps", r.stepsTotal()},
          {"sim_s_per_wall_s", perWall(simS)},
          {"seeds_per_s", perWall(static_cast<double>(r.seedCount()))},
          {"steps_per_wall_s", perWall(static_cast<double>(r.stepsTotal()))}};
}

Json buggify(const RunReport& r) {
  Json out = Json::array();
  for (const BuggifySiteTotal& site : r.buggify) {
    out.push_back({{"file", site.file},
                   {"line", site.line},
                   {"seeds_evaluated", site.seedsEvaluated},
                   {"seeds_active", site.seedsActive},
                   {"evaluated", site.evaluated},
                   {"fired", site.fired}});
  }
  return out;
}

std::string_view verdict(const RunReport& r) {
  if (r.interrupted) return "interrupted";
  return r.allPassed() ? "pass" : "fail";
}

Json schedule(const ScheduleSplit& split) {
  return {{"plain_first", split.plainFirst},   {"plain_percent", split.plainPercent},
          {"plain_seeds", split.plainSeeds},   {"roots", split.roots},
          {"timelines", split.timelines},      {"plain_wall_s", seconds(split.plainWall)},
          {"explore_wall_s", seconds(split.exploreWall)}};
}

void header(Json& json, const RunReport& r) {
  json["format"] = "moonpool.run_report";
  json["version"] = kReportJsonVersion;
  json["name"] = r.name;
  json["build_id"] = r.buildId;
  json["command"] = r.command;
  json["iteration"] = r.iteration;
  json["stop_reason"] = r.stopReason;
  json["interrupted"] = r.interrupted;
  json["stopped_at_first_bug"] = r.stoppedAtFirstBug;
  json["verdict"] = verdict(r);
  json["passed"] = r.allPassed() && !r.interrupted;
  json["exit_code"] = r.exitCode();
  json["jobs"] = r.jobs;
  json["coverage_signal"] = r.coverageSignal;
  json["coverage_value"] = r.coverageValue;
  json["coverage_contracts"] = coverageContractsName(r.coverage);
  json["explored"] = r.explored;
  json["edge_mode"] = r.edgeMode;
  json["edges_total"] = r.edgesTotal;
  json["explored_bug_seeds"] = r.exploredBugCount();
  json["shard"] = r.shard ? Json{{"index", r.shard->index}, {"count", r.shard->count}}
                          : Json(nullptr);
  json["first_bug_wall_s"] = r.firstBugWall ? Json(seconds(*r.firstBugWall)) : Json(nullptr);
  json["schedule"] = r.schedule ? schedule(*r.schedule) : Json(nullptr);
  json["merged_shards"] = r.mergedShards;
  json["repro_flags"] = r.reproFlags;
  json["repro_template"] = r.reproTemplate;
  json["replay_template"] = r.replayTemplate;
}

Json failingSeeds(const RunReport& r) {
  Json out = Json::array();
  for (const SeedResult& s : r.seeds) {
    if (s.verdict == SeedVerdict::kPass) continue;
    Json entry = {{"index", s.index},
                  {"seed", s.seed},
                  {"failure", seedFailureName(s.failure)},
                  {"message", s.message},
                  {"reproduce", r.reproduction(s)}};
    if (s.exploration && s.exploration->bugFound) {
      entry["recipe"] = s.exploration->recipe;
      entry["replay"] = r.replayCommand(*s.exploration);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Json bucketsJson(const std::vector<BucketResult>& buckets) {
  Json out = Json::array();
  for (const BucketResult& b : buckets) {
    Json bucket = {{"keys", b.keys}, {"hits", b.hits}};
    if (b.quality) bucket["quality"] = *b.quality;
    out.push_back(std::move(bucket));
  }
  return out;
}

Json siteJson(const SiteResult& site) {
  Json out = {{"status", siteStatusName(site.status)}, {"kind", kindName(site.kind)},
              {"message", site.message},               {"condition", site.condition},
              {"file", site.file},                     {"line", site.line},
              {"column", site.column},                 {"function", site.function},
              {"hits", site.hits},                     {"passes", site.passes},
              {"fails", site.fails}};
  if (site.firstFailure) {
    out["first_failure"] = {{"evaluation", site.firstFailure->evaluation},
                            {"stamp", site.firstFailure->stamp},
                            {"left", site.firstFailure->left},
                            {"right", site.firstFailure->right}};
  }
  if (site.watermark) out["watermark"] = *site.watermark;
  if (site.kind == AssertKind::kSometimesAll) {
    out["frontier"] = site.frontier;
    out["conditions"] = site.arity;
  }
  if (site.kind == AssertKind::kSometimesEach) {
    out["buckets_max"] = site.bucketsMax;
    out["bucket_overflows"] = site.bucketOverflows;
    out["buckets"] = bucketsJson(site.buckets);
  }
  return out;
}

Json assertionsJson(const AssertionReport& report) {
  Json sites = Json::array();
  for (const SiteResult& site : report.sites) sites.push_back(siteJson(site));
  Json breaches = Json::array();
  for (const ContractBreach& b : validateContracts(report)) {
    breaches.push_back({{"breach", breachKindName(b.breach)},
                        {"kind", kindName(b.kind)},
                        {"message", b.message},
                        {"file", b.file},
                        {"line", b.line},
                        {"hits", b.hits},
                        {"passes", b.passes},
                        {"fails", b.fails},
                        {"summary", b.summary}});
  }
  return {{"violations", report.violations},
          {"discoveries", report.discoveries},
          {"bucket_overflows", report.bucketOverflows},
          {"sites", std::move(sites)},
          {"breaches", std::move(breaches)}};
}

}  // namespace

std::string renderAssertionsJson(const AssertionReport& report) {
  return dump(assertionsJson(report)) + "\n";
}

std::string renderReportJson(const RunReport& r) {
  Json json = Json::object();
  header(json, r);
  json["totals"] = totals(r);
  if (r.explored) {
    json["exploration"] = stats(r.totals.exploration);
    json["exploration"]["explored_map"] = internal::encodeBitSet(r.exploredMap);
    json["exploration"]["covered_edges"] = internal::encodeBitSet(r.coveredEdges);
  }
  Json seeds = Json::array();
  for (const SeedResult& s : r.seeds) seeds.push_back(seedJson(r, s));
  json["seeds"] = std::move(seeds);
  json["seeds_not_kept"] = r.seedsNotKept;
  json["failing_seeds"] = failingSeeds(r);
  json["failing_seeds_not_kept"] = r.failingSeedsNotKept;
  const SeedResult* first = r.firstFailure();
  json["first_failure_config"] = first != nullptr ? Json(first->config) : Json(nullptr);
  json["faults"] = counts(r.faultCounts);
  json["metrics"] = metrics(r.metrics);
  json["buggify"] = buggify(r);
  json["assertions"] = assertionsJson(r.assertions);
  return dump(json) + "\n";
}

}  // namespace moonpool
