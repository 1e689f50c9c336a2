// A run report read back from its JSON (see runner/report_merge.h; the format is in
// runtime/runner/REPORT_FORMATS.md). Every field is checked for presence and type, and an
// error names the field ("seeds[3].steps: expected an unsigned integer"), so a truncated or
// hand-edited file is refused with a line a person can act on.
#include <cmath>
#include <nlohmann/json.hpp>

#include "moonpool/check.h"
#include "moonpool/runner/report_merge.h"
#include "report_util.h"

namespace moonpool {
namespace {

using Json = nlohmann::json;

// Thrown inside this file only; parseReportJson turns it into a status.
struct ReadError {
  std::string message;
};

const Json& member(const Json& object, const std::string& where, const char* key) {
  if (!object.is_object()) throw ReadError{where + ": expected an object"};
  const auto it = object.find(key);
  if (it == object.end()) throw ReadError{where + "." + key + ": missing"};
  return *it;
}

std::string path(const std::string& where, const char* key) { return where + "." + key; }

std::uint64_t u64(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_number_unsigned()) {
    throw ReadError{path(where, key) + ": expected an unsigned integer"};
  }
  return value.get<std::uint64_t>();
}

std::uint32_t u32(const Json& object, const std::string& where, const char* key) {
  const std::uint64_t value = u64(object, where, key);
  if (value > UINT32_MAX) throw ReadError{path(where, key) + ": larger than 2^32 - 1"};
  return static_cast<std::uint32_t>(value);
}

std::int64_t i64(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_number_integer()) throw ReadError{path(where, key) + ": expected an integer"};
  return value.get<std::int64_t>();
}

std::string text(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_string()) throw ReadError{path(where, key) + ": expected a string"};
  return value.get<std::string>();
}

bool flag(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_boolean()) throw ReadError{path(where, key) + ": expected true or false"};
  return value.get<bool>();
}

// Seconds (a JSON number) back to the nanoseconds they were written from.
Duration duration(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_number() || !(value.get<double>() >= 0) || value.get<double>() > 1e9) {
    throw ReadError{path(where, key) + ": expected seconds in [0, 1e9]"};
  }
  return Duration(static_cast<Duration::rep>(std::llround(value.get<double>() * 1e9)));
}

const Json& array(const Json& object, const std::string& where, const char* key) {
  const Json& value = member(object, where, key);
  if (!value.is_array()) throw ReadError{path(where, key) + ": expected an array"};
  return value;
}

std::vector<std::string> strings(const Json& object, const std::string& where, const char* key) {
  std::vector<std::string> out;
  const Json& items = array(object, where, key);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      throw ReadError{path(where, key) + "[" + std::to_string(i) + "]: expected a string"};
    }
    out.push_back(items[i].get<std::string>());
  }
  return out;
}

// Reverse of a name function over an enum's values [0, last].
template <typename Enum, typename NameOf>
Enum named(const std::string& name, Enum last, NameOf nameOf, const std::string& where) {
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    if (nameOf(static_cast<Enum>(i)) == name) return static_cast<Enum>(i);
  }
  throw ReadError{where + ": unknown value '" + name + "'"};
}

std::map<std::string, std::uint64_t> counts(const Json& object, const std::string& where,
                                            const char* key) {
  const Json& value = member(object, where, key);
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, count] : value.items()) {
    if (!count.is_number_unsigned()) {
      throw ReadError{path(where, key) + "." + name + ": expected an unsigned integer"};
    }
    out[name] = count.get<std::uint64_t>();
  }
  return out;
}

std::map<std::string, Metric> metrics(const Json& object, const std::string& where,
                                      const char* key) {
  const Json& value = member(object, where, key);
  std::map<std::string, Metric> out;
  for (const auto& [name, metric] : value.items()) {
    const std::string at = path(where, key) + "." + name;
    const std::string kind = text(metric, at, "kind");
    if (kind != "sum" && kind != "max") throw ReadError{at + ".kind: expected sum or max"};
    out[name] = Metric{.kind = kind == "sum" ? Metric::Kind::kSum : Metric::Kind::kMax,
                       .value = i64(metric, at, "value")};
  }
  return out;
}

// The optional counters (absent from reports of older builds: 0).
void readOptionalStats(const Json& object, const std::string& where, explorer::Stats& out) {
  const auto optional = [&](const char* key, std::uint64_t& field) {
    if (object.contains(key)) field = u64(object, where, key);
  };
  optional("mark_overflows", out.markOverflows);
  optional("respawned", out.respawned);
  optional("hangs", out.hangs);
  optional("candidate_overflows", out.candidateOverflows);
  optional("job_overflows", out.jobOverflows);
  optional("workers_run", out.workersRun);
  optional("results_dropped", out.resultsDropped);
  optional("jobs_cpu_ns", out.jobsCpuNs);
  optional("critical_path_ns", out.criticalPathNs);
}

explorer::Stats stats(const Json& object, const std::string& where) {
  explorer::Stats out{.timelines = u64(object, where, "timelines"),
                         .splits = u64(object, where, "splits"),
                         .productive = u64(object, where, "productive"),
                         .bugs = u64(object, where, "bugs"),
                         .signals = u64(object, where, "signals"),
                         .energyLeft = u64(object, where, "energy_left"),
                         .poolLeft = u64(object, where, "pool_left"),
                         .barrenMarks = u64(object, where, "barren_marks"),
                         .depthReachedMax = u32(object, where, "max_depth"),
                         .bitmapBits = u64(object, where, "bitmap_bits"),
                         .edgesTotal = u64(object, where, "edges_total"),
                         .edgesCovered = u64(object, where, "edges_covered")};
  readOptionalStats(object, where, out);
  return out;
}

// A bit set of the report (RunReport::exploredMap, coveredEdges): padded base64 of exactly
// ceil(bits / 8) bytes, no bit set at or past `bits`, and as many set as the report's count.
std::vector<std::uint8_t> bitSet(const Json& e, const std::string& at, std::uint64_t bits,
                                 std::uint64_t count, const char* countKey) {
  const std::string key = at.substr(at.rfind('.') + 1);
  const std::optional<std::vector<std::uint8_t>> bytes =
      internal::decodeBitSet(text(e, "exploration", key.c_str()));
  if (!bytes) throw ReadError{at + ": not padded base64"};
  if (bytes->size() != (bits + 7) / 8) {
    throw ReadError{at + ": " + std::to_string(bytes->size()) + " bytes, a set of " +
                    std::to_string(bits) + " bits has " + std::to_string((bits + 7) / 8)};
  }
  if (bits % 8 != 0 && (bytes->back() >> (bits % 8)) != 0) {
    throw ReadError{at + ": a bit set past the " + std::to_string(bits) + " the set holds"};
  }
  if (const std::uint64_t set = internal::bitCount(*bytes); set != count) {
    throw ReadError{at + ": " + std::to_string(set) + " bits set, but exploration." + countKey +
                    " says " + std::to_string(count)};
  }
  return *bytes;
}

SeedExploration exploration(const Json& object, const std::string& where) {
  SeedExploration out{.stats = stats(object, where)};
  out.bugFound = flag(object, where, "bug_found");
  if (!out.bugFound) return out;
  out.bugClass = text(object, where, "bug_class");
  out.bugMessage = text(object, where, "bug_message");
  out.bugDepth = u32(object, where, "bug_depth");
  out.timelinesToBug = u64(object, where, "timelines_to_bug");
  out.wallToBug = duration(object, where, "wall_s_to_bug");
  out.recipe = text(object, where, "recipe");
  return out;
}

std::uint64_t hex64(const std::string& value, const std::string& where) {
  if (value.size() != 16 || value.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw ReadError{where + ": expected 16 lower-case hex digits"};
  }
  return std::stoull(value, nullptr, 16);
}

SeedResult seed(const Json& object, const std::string& where) {
  SeedResult out;
  out.index = u64(object, where, "index");
  out.seed = u64(object, where, "seed");
  const std::string verdict = text(object, where, "verdict");
  if (verdict != "pass" && verdict != "fail") throw ReadError{where + ".verdict: pass or fail"};
  out.verdict = verdict == "pass" ? SeedVerdict::kPass : SeedVerdict::kFail;
  out.failure = named(text(object, where, "failure"), kSeedFailureLast, seedFailureName,
                      path(where, "failure"));
  if ((out.verdict == SeedVerdict::kPass) != (out.failure == SeedFailure::kNone) ||
      out.failure == SeedFailure::kInterrupted) {
    throw ReadError{where + ": verdict '" + verdict + "' with failure kind '" +
                    std::string(seedFailureName(out.failure)) + "'"};
  }
  out.message = text(object, where, "message");
  if (out.verdict == SeedVerdict::kFail && out.message.empty()) {
    throw ReadError{where + ".message: a failing seed carries its reason"};
  }
  out.wall = duration(object, where, "wall_s");
  out.simulated = duration(object, where, "simulated_s");
  out.steps = u64(object, where, "steps");
  out.decisionHash = hex64(text(object, where, "decision_hash"), path(where, "decision_hash"));
  out.randomCalls = u64(object, where, "random_calls");
  out.assertionFailures = u64(object, where, "assertion_failures");
  out.faultCounts = counts(object, where, "faults");
  out.metrics = metrics(object, where, "metrics");
  out.config = text(object, where, "config");
  out.trace = strings(object, where, "trace");
  if (object.contains("replayed_recipe")) {
    out.replayedRecipe = text(object, where, "replayed_recipe");
  }
  if (object.contains("exploration")) {
    out.exploration = exploration(member(object, where, "exploration"), path(where, "exploration"));
  }
  return out;
}

std::vector<BucketResult> buckets(const Json& object, const std::string& where) {
  std::vector<BucketResult> out;
  const Json& items = array(object, where, "buckets");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = path(where, "buckets") + "[" + std::to_string(i) + "]";
    BucketResult bucket{.keys = {}, .hits = u64(items[i], at, "hits"), .quality = std::nullopt};
    for (const Json& key : array(items[i], at, "keys")) {
      if (!key.is_number_integer()) throw ReadError{at + ".keys: expected integers"};
      bucket.keys.push_back(key.get<std::int64_t>());
    }
    if (items[i].contains("quality")) bucket.quality = i64(items[i], at, "quality");
    out.push_back(std::move(bucket));
  }
  return out;
}

SiteResult site(const Json& object, const std::string& where) {
  SiteResult out{};
  out.kind = named(text(object, where, "kind"), static_cast<AssertKind>(kAssertKindCount - 1),
                   kindName, path(where, "kind"));
  out.message = text(object, where, "message");
  out.condition = text(object, where, "condition");
  out.file = text(object, where, "file");
  out.function = text(object, where, "function");
  out.line = u32(object, where, "line");
  out.column = u32(object, where, "column");
  out.recordCount = 1;
  out.passes = u64(object, where, "passes");
  out.fails = u64(object, where, "fails");
  out.hits = u64(object, where, "hits");
  if (out.hits != out.passes + out.fails) throw ReadError{where + ": hits != passes + fails"};
  if (object.contains("first_failure")) {
    const Json& first = member(object, where, "first_failure");
    const std::string at = path(where, "first_failure");
    out.firstFailure = FirstFailure{.evaluation = u64(first, at, "evaluation"),
                                    .stamp = u64(first, at, "stamp"),
                                    .left = i64(first, at, "left"),
                                    .right = i64(first, at, "right")};
  }
  if (object.contains("watermark")) out.watermark = i64(object, where, "watermark");
  if (object.contains("frontier")) out.frontier = u32(object, where, "frontier");
  if (object.contains("conditions")) out.arity = u32(object, where, "conditions");
  if (out.kind == AssertKind::kSometimesEach) {
    out.bucketsMax = u32(object, where, "buckets_max");
    out.bucketOverflows = u64(object, where, "bucket_overflows");
    out.buckets = buckets(object, where);
    out.arity = out.buckets.empty() ? 0 : static_cast<std::uint32_t>(out.buckets[0].keys.size());
  }
  out.status = siteStatusOf(out);
  return out;
}

AssertionReport assertions(const Json& object, const std::string& where) {
  AssertionReport out{.sites = {},
                      .violations = u64(object, where, "violations"),
                      .discoveries = u64(object, where, "discoveries"),
                      .bucketOverflows = u64(object, where, "bucket_overflows")};
  const Json& sites = array(object, where, "sites");
  for (std::size_t i = 0; i < sites.size(); ++i) {
    out.sites.push_back(site(sites[i], path(where, "sites") + "[" + std::to_string(i) + "]"));
  }
  return out;
}

std::vector<BuggifySiteTotal> buggify(const Json& report) {
  std::vector<BuggifySiteTotal> out;
  const Json& items = array(report, "report", "buggify");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = "report.buggify[" + std::to_string(i) + "]";
    out.push_back(BuggifySiteTotal{.file = text(items[i], at, "file"),
                                   .line = u32(items[i], at, "line"),
                                   .seedsEvaluated = u64(items[i], at, "seeds_evaluated"),
                                   .seedsActive = u64(items[i], at, "seeds_active"),
                                   .evaluated = u64(items[i], at, "evaluated"),
                                   .fired = u64(items[i], at, "fired")});
  }
  return out;
}

// The header fields: what the run was and how it ended.
void header(const Json& j, RunReport& r) {
  const std::string at = "report";
  if (!j.is_object() || !j.contains("format") || j["format"] != "moonpool.run_report") {
    throw ReadError{"not a moonpool run report (no \"format\": \"moonpool.run_report\")"};
  }
  if (i64(j, at, "version") != kReportJsonVersion) {
    throw ReadError{"report.version: " + j["version"].dump() + ", this tool reads version " +
                    std::to_string(kReportJsonVersion) + " (rerun the shards with this build)"};
  }
  r.name = text(j, at, "name");
  r.buildId = text(j, at, "build_id");
  r.command = text(j, at, "command");
  r.iteration = text(j, at, "iteration");
  r.stopReason = text(j, at, "stop_reason");
  r.interrupted = flag(j, at, "interrupted");
  r.stoppedAtFirstBug = flag(j, at, "stopped_at_first_bug");
  r.jobs = u32(j, at, "jobs");
  r.coverageSignal = text(j, at, "coverage_signal");
  r.coverageValue = u64(j, at, "coverage_value");
  r.coverage = named(text(j, at, "coverage_contracts"), CoverageContracts::kReportOnly,
                     coverageContractsName, "report.coverage_contracts");
  r.explored = flag(j, at, "explored");
  r.edgeMode = text(j, at, "edge_mode");
  r.edgesTotal = u64(j, at, "edges_total");
  if (const Json& shard = member(j, at, "shard"); !shard.is_null()) {
    r.shard = Shard{.index = u32(shard, "report.shard", "index"),
                    .count = u32(shard, "report.shard", "count")};
    if (r.shard->count < 1 || r.shard->count > Shard::kCountMax ||
        r.shard->index >= r.shard->count) {
      throw ReadError{"report.shard: index " + std::to_string(r.shard->index) + " of " +
                      std::to_string(r.shard->count) + " is out of range"};
    }
  }
  r.mergedShards = u32(j, at, "merged_shards");
  r.reproFlags = strings(j, at, "repro_flags");
  r.reproTemplate = text(j, at, "repro_template");
  r.replayTemplate = text(j, at, "replay_template");
}

void totals(const Json& j, RunReport& r) {
  const std::string at = "report.totals";
  const Json& t = member(j, "report", "totals");
  r.totals.seeds = u64(t, at, "seeds");
  r.totals.passed = u64(t, at, "passed");
  r.totals.failed = u64(t, at, "failed");
  r.totals.exploredBugSeeds = u64(t, at, "explored_bug_seeds");
  r.totals.exploredSeeds = u64(t, at, "explored_seeds");
  r.totals.simulated = duration(t, at, "simulated_s");
  r.totals.steps = u64(t, at, "steps");
  r.wall = duration(t, at, "wall_s");
  if (r.totals.passed + r.totals.failed != r.totals.seeds) {
    throw ReadError{at + ": passed + failed != seeds"};
  }
  if (!r.explored) return;
  const Json& e = member(j, "report", "exploration");
  r.totals.exploration = stats(e, "exploration");
  r.exploredMap = bitSet(e, "exploration.explored_map", explorer::kBitmapBits,
                         r.totals.exploration.bitmapBits, "bitmap_bits");
  r.coveredEdges = bitSet(e, "exploration.covered_edges", r.edgesTotal,
                          r.totals.exploration.edgesCovered, "edges_covered");
}

void seeds(const Json& j, RunReport& r) {
  const Json& items = array(j, "report", "seeds");
  for (std::size_t i = 0; i < items.size(); ++i) {
    SeedResult s = seed(items[i], "report.seeds[" + std::to_string(i) + "]");
    if (s.verdict == SeedVerdict::kFail) ++r.failingSeedsKept;
    if (!r.seeds.empty() && r.seeds.back().index >= s.index) {
      throw ReadError{"report.seeds[" + std::to_string(i) + "]: indices must increase"};
    }
    r.seeds.push_back(std::move(s));
  }
  r.seedsNotKept = u64(j, "report", "seeds_not_kept");
  r.failingSeedsNotKept = u64(j, "report", "failing_seeds_not_kept");
  if (r.seeds.size() + r.seedsNotKept != r.totals.seeds ||
      r.failingSeedsKept + r.failingSeedsNotKept != r.totals.failed) {
    throw ReadError{"report.seeds: kept and not kept seeds do not add up to report.totals"};
  }
}

}  // namespace

absl::StatusOr<RunReport> parseReportJson(std::string_view json) {
  const Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again for the position and reason of the first error.
    try {
      (void)Json::parse(json.begin(), json.end());
    } catch (const Json::parse_error& error) {
      return absl::InvalidArgumentError(std::string("not JSON: ") + error.what());
    }
    return absl::InvalidArgumentError("not JSON");
  }
  RunReport r;
  try {
    header(j, r);
    totals(j, r);
    seeds(j, r);
    r.faultCounts = counts(j, "report", "faults");
    r.metrics = metrics(j, "report", "metrics");
    r.buggify = buggify(j);
    r.assertions = assertions(member(j, "report", "assertions"), "report.assertions");
  } catch (const ReadError& error) {
    return absl::InvalidArgumentError(error.message);
  }
  r.breaches = validateContracts(r.assertions);
  return r;
}

}  // namespace moonpool
