// The run report as JUnit XML (see runner/report.h; documented in
// runtime/runner/REPORT_FORMATS.md).
//
// The common JUnit shape CI systems read (Jenkins, GitLab, GitHub actions): one
// <testsuites> holding one <testsuite> named after the simulation, whose test cases are
//   "run"                 the run as a whole: a <failure> when seeds or contracts failed,
//                         an <error type="interrupted"> when the run was interrupted; its
//                         <system-out> holds the summary counts;
//   "seed <S>"            one per failing seed kept: a <failure> whose message is the
//                         reason and whose text holds the reproduction line;
//   "contract <file:line>"  one per assertion contract that fails the run.
// Passing seeds are not listed one by one (a run may have millions): the "run" case stands
// for them. Every string is escaped and made valid UTF-8 (report_util.h).
#include <cstdio>
#include <string>

#include "moonpool/runner/report.h"
#include "report_util.h"

namespace moonpool {
namespace {

using internal::seconds;
using internal::xmlEscape;

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xmlEscape(value) + "\"";
}

std::string attr(std::string_view name, std::uint64_t value) {
  return attr(name, std::to_string(value));
}

std::string secondsText(Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds(d));
  return buffer;
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string runCase(const RunReport& r, std::size_t failing) {
  std::string out = "    <testcase" + attr("classname", r.name) + attr("name", "run") +
                    attr("time", secondsText(r.wall)) + ">\n";
  const std::string summary = std::to_string(r.seedCount()) + " seeds run, " +
                              std::to_string(r.failedCount()) + " failed (" +
                              std::to_string(r.exploredBugCount()) +
                              " through explored timelines), " + std::to_string(failing) +
                              " assertion contract(s) broken; stopped: " + r.stopReason;
  if (r.interrupted) {
    out += "      <error" + attr("type", "interrupted") +
           attr("message", "interrupted after " + std::to_string(r.seedCount()) + " seeds") +
           "/>\n";
  } else if (!r.allPassed()) {
    out += "      <failure" + attr("type", "failed") + attr("message", summary) + "/>\n";
  }
  out += "      <system-out>" + xmlEscape(summary + "\nbuild " + r.buildId) + "</system-out>\n";
  return out + "    </testcase>\n";
}

std::string seedCase(const RunReport& r, const SeedResult& seed) {
  std::string out = "    <testcase" + attr("classname", r.name) +
                    attr("name", "seed " + std::to_string(seed.seed)) +
                    attr("time", secondsText(seed.wall)) + ">\n";
  out += "      <failure" + attr("type", seedFailureName(seed.failure)) +
         attr("message", firstLine(seed.message)) + ">" +
         xmlEscape(seed.message + "\nreproduce: " + r.reproduction(seed)) + "</failure>\n";
  return out + "    </testcase>\n";
}

std::string contractCase(const RunReport& r, const ContractBreach& b) {
  const std::string where = b.file + ":" + std::to_string(b.line);
  std::string out = "    <testcase" + attr("classname", r.name) +
                    attr("name", "contract " + where) + attr("time", "0") + ">\n";
  out += "      <failure" + attr("type", breachKindName(b.breach)) +
         attr("message", std::string(kindName(b.kind)) + " \"" + b.message + "\": " + b.summary) +
         "/>\n";
  return out + "    </testcase>\n";
}

}  // namespace

std::string renderReportJunit(const RunReport& r) {
  const std::vector<const ContractBreach*> breaches = r.failingBreaches();
  std::string cases = runCase(r, breaches.size());
  std::uint64_t tests = 1;
  std::uint64_t failures = r.interrupted || r.allPassed() ? 0 : 1;
  for (const SeedResult& seed : r.seeds) {
    if (seed.verdict == SeedVerdict::kPass) continue;
    cases += seedCase(r, seed);
    ++tests;
    ++failures;
  }
  for (const ContractBreach* b : breaches) {
    cases += contractCase(r, *b);
    ++tests;
    ++failures;
  }
  const std::uint64_t errors = r.interrupted ? 1 : 0;
  const std::string counts = attr("tests", tests) + attr("failures", failures) +
                             attr("errors", errors) + attr("time", secondsText(r.wall));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attr("name", "moonpool") + counts + ">\n";
  out += "  <testsuite" + attr("name", r.name) + counts + attr("skipped", "0") + ">\n";
  out += "    <properties>\n";
  out += "      <property" + attr("name", "build_id") + attr("value", r.buildId) + "/>\n";
  out += "      <property" + attr("name", "iteration") + attr("value", r.iteration) + "/>\n";
  out += "      <property" + attr("name", "seeds_run") + attr("value", r.seedCount()) + "/>\n";
  out += "      <property" + attr("name", "exit_code") + attr("value", r.exitCode()) + "/>\n";
  if (r.shard) {
    out += "      <property" + attr("name", "shard") +
           attr("value", std::to_string(r.shard->index) + "/" + std::to_string(r.shard->count)) +
           "/>\n";
  }
  if (r.stoppedAtFirstBug) {
    out += "      <property" + attr("name", "stop_reason") + attr("value", r.stopReason) + "/>\n";
  }
  if (r.mergedShards > 0) {
    out += "      <property" + attr("name", "merged_shards") + attr("value", r.mergedShards) +
           "/>\n";
  }
  out += "    </properties>\n";
  out += cases;
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace moonpool
