// The gtest helper (see runner/gtest.h).
#include "moonpool/runner/gtest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

#include "moonpool/runner/build_id.h"

namespace moonpool {
namespace {

std::string executablePath() {
  char buffer[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return "<test binary>";
  return std::string(buffer, static_cast<std::size_t>(n));
}

// "MOONPOOL_<VAR>=<placeholder> MOONPOOL_BUILD=<id> /abs/binary --gtest_filter=Suite.Name".
std::string reproTemplate(const char* variable, const char* placeholder) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string filter;
  if (test != nullptr)
    filter = std::string(" --gtest_filter=") + test->test_suite_name() + "." + test->name();
  return std::string(variable) + "=" + placeholder + " MOONPOOL_BUILD=" + buildId() + " " +
         executablePath() + filter;
}

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// Applies MOONPOOL_SEED / MOONPOOL_REPLAY / MOONPOOL_BUILD; an error message on bad input.
std::string applyEnvironment(RunOptions& options) {
  if (const char* build = env("MOONPOOL_BUILD");
      build != nullptr && build != buildId() && env("MOONPOOL_ALLOW_BUILD_MISMATCH") == nullptr) {
    return std::string("MOONPOOL_BUILD=") + build + " names another build: this binary is build " +
           buildId() + " (rebuild that version, or set MOONPOOL_ALLOW_BUILD_MISMATCH=1)";
  }
  if (const char* seed = env("MOONPOOL_SEED")) {
    std::uint64_t value = 0;
    const char* end = seed + std::char_traits<char>::length(seed);
    const auto [at, error] = std::from_chars(seed, end, value);
    if (error != std::errc() || at != end) {
      return std::string("MOONPOOL_SEED must be an unsigned integer, got '") + seed + "'";
    }
    options.seed = value;
  }
  if (const char* replay = env("MOONPOOL_REPLAY")) {
    if (options.seed) return "MOONPOOL_SEED and MOONPOOL_REPLAY both choose the seed: set one";
    explorer::Recipe recipe;
    char error[256] = {};
    if (!explorer::parseRecipe(replay, recipe, error, sizeof error)) {
      return std::string("MOONPOOL_REPLAY: ") + error;
    }
    options.replay = recipe;
  }
  if (const char* trace = env("MOONPOOL_TRACE"); trace != nullptr && *trace == '1') {
    options.tracing = Tracing::kOn;
  }
  return {};
}

}  // namespace

RunReport expectSimulationPasses(const SimulationBuilder& builder, RunOptions options,
                                 std::source_location where) {
  const char* file = where.file_name();
  const int line = static_cast<int>(where.line());
  if (const std::string error = applyEnvironment(options); !error.empty()) {
    ADD_FAILURE_AT(file, line) << error;
    return RunReport{};
  }
  options.reproTemplate = reproTemplate("MOONPOOL_SEED", "{seed}");
  options.replayTemplate = reproTemplate("MOONPOOL_REPLAY", "{recipe}");
  // A test binary holds many simulations' sites: only what this run reached is judged.
  const bool single = options.seed || options.replay;
  if (!options.coverage && !single) options.coverage = CoverageContracts::kReachedOnly;
  RunReport report = runSimulation(builder, std::move(options));
  for (const SeedResult& seed : report.seeds) {
    if (seed.verdict == SeedVerdict::kPass) continue;
    std::string trace;
    for (const std::string& event : seed.trace) trace += "\n    " + event;
    ADD_FAILURE_AT(file, line) << "simulation '" << report.name << "' "
                               << renderFailingSeed(report, seed).substr(2) << trace;
  }
  if (report.failingSeedsNotKept > 0) {
    ADD_FAILURE_AT(file, line) << "simulation '" << report.name << "': "
                               << report.failingSeedsNotKept << " more failing seeds not kept";
  }
  for (const ContractBreach* breach : report.failingBreaches()) {
    ADD_FAILURE_AT(file, line) << "simulation '" << report.name
                               << "': assertion contract broken over " << report.seedCount()
                               << " seeds: " << breachKindName(breach->breach) << " "
                               << breach->file << ":" << breach->line << " \"" << breach->message
                               << "\": " << breach->summary;
  }
  return report;
}

}  // namespace moonpool
