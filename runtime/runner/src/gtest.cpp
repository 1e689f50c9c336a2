// The gtest helper (see runner/gtest.h).
#include "moonpool/runner/gtest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

namespace moonpool {
namespace {

std::string executablePath() {
  char buffer[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return "<test binary>";
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string reproTemplate() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string filter;
  if (test != nullptr)
    filter = std::string(" --gtest_filter=") + test->test_suite_name() + "." + test->name();
  return "MOONPOOL_SEED={seed} " + executablePath() + filter;
}

}  // namespace

RunReport expectSimulationPasses(const SimulationBuilder& builder, RunOptions options) {
  if (const char* seed = std::getenv("MOONPOOL_SEED"); seed != nullptr && *seed != '\0') {
    std::uint64_t value = 0;
    const char* end = seed + std::char_traits<char>::length(seed);
    const auto [at, error] = std::from_chars(seed, end, value);
    if (error != std::errc() || at != end) {
      ADD_FAILURE() << "MOONPOOL_SEED must be an unsigned integer, got '" << seed << "'";
      return RunReport{};
    }
    options.seed = value;
  }
  if (const char* trace = std::getenv("MOONPOOL_TRACE"); trace != nullptr && *trace == '1') {
    options.tracing = Tracing::kOn;
  }
  options.reproTemplate = reproTemplate();
  // A test binary holds many simulations' sites: only what this run reached is judged.
  if (!options.coverage && !options.seed) options.coverage = CoverageContracts::kReachedOnly;
  RunReport report = runSimulation(builder, std::move(options));
  for (const SeedResult& seed : report.seeds) {
    if (seed.verdict == SeedVerdict::kPass) continue;
    std::string trace;
    for (const std::string& line : seed.trace) trace += "\n    " + line;
    ADD_FAILURE() << "simulation '" << report.name << "' seed " << seed.seed << " failed ("
                  << seedFailureName(seed.failure) << "): " << seed.message
                  << "\n  reproduce: " << report.reproduction(seed) << trace;
  }
  for (const ContractBreach* breach : report.failingBreaches()) {
    ADD_FAILURE() << "simulation '" << report.name << "': assertion contract broken over "
                  << report.seeds.size() << " seeds: " << breachKindName(breach->breach) << " "
                  << breach->file << ":" << breach->line << " \"" << breach->message
                  << "\": " << breach->summary;
  }
  return report;
}

}  // namespace moonpool
