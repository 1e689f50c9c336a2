// The run report as JSON (see runner/report.h). Field names are snake_case; durations are
// seconds as numbers; hashes are 16-digit hex strings (JSON numbers lose 64-bit precision).
#include <cinttypes>
#include <cstdio>

#include "json_writer.h"
#include "moonpool/runner/report.h"
#include "report_util.h"

namespace moonpool {
namespace {

using internal::JsonWriter;
using internal::seconds;

std::string hex64(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, value);
  return buffer;
}

void writeCounts(JsonWriter& json, const std::map<std::string, std::uint64_t>& counts) {
  json.beginObject();
  for (const auto& [name, count] : counts) json.key(name).value(count);
  json.endObject();
}

void writeMetrics(JsonWriter& json, const std::map<std::string, Metric>& metrics) {
  json.beginObject();
  for (const auto& [name, metric] : metrics) {
    json.key(name).beginObject();
    json.key("kind").value(metric.kind == Metric::Kind::kSum ? "sum" : "max");
    json.key("value").value(metric.value);
    json.endObject();
  }
  json.endObject();
}

void writeExploration(JsonWriter& json, const RunReport& report, const SeedExploration& e) {
  json.key("exploration").beginObject();
  const explorer::Stats& st = e.stats;
  json.key("timelines").value(st.timelines);
  json.key("splits").value(st.splits);
  json.key("productive").value(st.productive);
  json.key("bugs").value(st.bugs);
  json.key("signals").value(st.signals);
  json.key("energy_left").value(st.energyLeft);
  json.key("pool_left").value(st.poolLeft);
  json.key("barren_marks").value(st.barrenMarks);
  json.key("max_depth").value(st.depthReachedMax);
  json.key("bitmap_bits").value(st.bitmapBits);
  json.key("edges_total").value(st.edgesTotal);
  json.key("edges_covered").value(st.edgesCovered);
  json.key("bug_found").boolean(e.bugFound);
  if (e.bugFound) {
    json.key("bug_class").value(e.bugClass);
    json.key("bug_message").value(e.bugMessage);
    json.key("bug_depth").value(e.bugDepth);
    json.key("timelines_to_bug").value(e.timelinesToBug);
    json.key("wall_s_to_bug").value(seconds(e.wallToBug));
    json.key("recipe").value(e.recipe);
    json.key("replay").value(report.replayCommand(e));
  }
  json.endObject();
}

void writeSeed(JsonWriter& json, const RunReport& report, const SeedResult& s) {
  json.beginObject();
  json.key("index").value(s.index);
  json.key("seed").value(s.seed);
  json.key("verdict").value(s.verdict == SeedVerdict::kPass ? "pass" : "fail");
  json.key("failure").value(seedFailureName(s.failure));
  json.key("message").value(s.message);
  json.key("wall_s").value(seconds(s.wall));
  json.key("simulated_s").value(seconds(s.simulated));
  json.key("steps").value(s.steps);
  json.key("decision_hash").value(hex64(s.decisionHash));
  json.key("random_calls").value(s.randomCalls);
  json.key("assertion_failures").value(s.assertionFailures);
  json.key("faults");
  writeCounts(json, s.faultCounts);
  json.key("metrics");
  writeMetrics(json, s.metrics);
  json.key("config").value(s.config);
  if (s.verdict == SeedVerdict::kFail) json.key("reproduce").value(report.reproduction(s));
  if (!s.replayedRecipe.empty()) json.key("replayed_recipe").value(s.replayedRecipe);
  if (s.exploration) writeExploration(json, report, *s.exploration);
  json.key("trace").beginArray();
  for (const std::string& event : s.trace) json.value(event);
  json.endArray();
  json.endObject();
}

void writeTotals(JsonWriter& json, const RunReport& r) {
  const double wallS = seconds(r.wall);
  const double simS = seconds(r.simulatedTotal());
  json.key("totals").beginObject();
  json.key("seeds").value(static_cast<std::uint64_t>(r.seeds.size()));
  json.key("passed").value(r.passedCount());
  json.key("failed").value(r.failedCount());
  json.key("wall_s").value(wallS);
  json.key("simulated_s").value(simS);
  json.key("steps").value(r.stepsTotal());
  json.key("sim_s_per_wall_s").value(wallS > 0 ? simS / wallS : 0.0);
  json.key("seeds_per_s").value(wallS > 0 ? static_cast<double>(r.seeds.size()) / wallS : 0.0);
  json.key("steps_per_wall_s").value(wallS > 0 ? static_cast<double>(r.stepsTotal()) / wallS : 0.0);
  json.endObject();
}

void writeBuggify(JsonWriter& json, const RunReport& r) {
  json.key("buggify").beginArray();
  for (const BuggifySiteTotal& site : r.buggify) {
    json.beginObject();
    json.key("file").value(site.file);
    json.key("line").value(site.line);
    json.key("seeds_evaluated").value(site.seedsEvaluated);
    json.key("seeds_active").value(site.seedsActive);
    json.key("evaluated").value(site.evaluated);
    json.key("fired").value(site.fired);
    json.endObject();
  }
  json.endArray();
}

void writeHeader(JsonWriter& json, const RunReport& r) {
  json.key("name").value(r.name);
  json.key("build_id").value(r.buildId);
  json.key("command").value(r.command);
  json.key("iteration").value(r.iteration);
  json.key("stop_reason").value(r.stopReason);
  json.key("jobs").value(r.jobs);
  json.key("coverage_signal").value(r.coverageSignal);
  json.key("coverage_value").value(r.coverageValue);
  json.key("coverage_contracts").value(coverageContractsName(r.coverage));
  json.key("explored").boolean(r.explored);
  json.key("edge_mode").value(r.edgeMode);
  json.key("edges_total").value(r.edgesTotal);
  json.key("explored_bug_seeds").value(r.exploredBugCount());
  json.key("passed").boolean(r.allPassed());
  json.key("exit_code").value(r.exitCode());
}

}  // namespace

std::string renderReportJson(const RunReport& r) {
  JsonWriter json;
  json.beginObject();
  writeHeader(json, r);
  writeTotals(json, r);
  json.key("seeds").beginArray();
  for (const SeedResult& s : r.seeds) writeSeed(json, r, s);
  json.endArray();
  json.key("failing_seeds").beginArray();
  for (const SeedResult& s : r.seeds) {
    if (s.verdict == SeedVerdict::kPass) continue;
    json.beginObject();
    json.key("seed").value(s.seed);
    json.key("failure").value(seedFailureName(s.failure));
    json.key("message").value(s.message);
    json.key("reproduce").value(r.reproduction(s));
    json.endObject();
  }
  json.endArray();
  json.key("first_failure_config");
  if (const SeedResult* first = r.firstFailure(); first != nullptr) {
    json.value(first->config);
  } else {
    json.null();
  }
  json.key("faults");
  writeCounts(json, r.faultCounts);
  json.key("metrics");
  writeMetrics(json, r.metrics);
  writeBuggify(json, r);
  json.key("assertions").raw(renderJson(r.assertions));
  json.endObject();
  return json.take() + "\n";
}

}  // namespace moonpool
