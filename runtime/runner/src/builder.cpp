// SimulationBuilder, IterationControl and WorkloadContext (see runner/builder.h and
// runner/workload.h).
#include "moonpool/runner/builder.h"

#include "moonpool/check.h"
#include "moonpool/runner/workload.h"

namespace moonpool {

// ---- IterationControl ----------------------------------------------------------------------

IterationControl IterationControl::fixedCount(std::uint64_t count) {
  MOONPOOL_CHECK(count >= 1 && count <= kSeedsMax, "a fixed count must be in [1, kSeedsMax]");
  return IterationControl{.mode = Mode::kFixedCount, .count = count};
}

IterationControl IterationControl::wallTime(Duration budget, std::uint64_t seedsMax) {
  MOONPOOL_CHECK_GT(budget, Duration{0}, "a wall-time budget must be positive");
  MOONPOOL_CHECK(seedsMax >= 1 && seedsMax <= kSeedsMax, "seedsMax must be in [1, kSeedsMax]");
  return IterationControl{.mode = Mode::kWallBudget, .count = seedsMax, .wallBudget = budget};
}

IterationControl IterationControl::untilAllSometimesFired(std::uint64_t seedsMax) {
  MOONPOOL_CHECK(seedsMax >= 1 && seedsMax <= kSeedsMax, "seedsMax must be in [1, kSeedsMax]");
  return IterationControl{.mode = Mode::kUntilAllSometimesFired, .count = seedsMax};
}

IterationControl IterationControl::untilCoverageStable(std::uint64_t plateau,
                                                       std::uint64_t seedsMax) {
  MOONPOOL_CHECK(plateau >= 1, "a coverage plateau needs at least one seed");
  MOONPOOL_CHECK(seedsMax >= 1 && seedsMax <= kSeedsMax, "seedsMax must be in [1, kSeedsMax]");
  return IterationControl{
      .mode = Mode::kUntilCoverageStable, .count = seedsMax, .plateau = plateau};
}

std::string IterationControl::toString() const {
  const std::string cap = " (at most " + std::to_string(count) + " seeds)";
  switch (mode) {
    case Mode::kFixedCount:
      return "fixed count: " + std::to_string(count) + " seeds";
    case Mode::kWallBudget:
      return "wall-time budget: " + formatDuration(wallBudget) + cap;
    case Mode::kUntilAllSometimesFired:
      return "until every sometimes/reachable assertion has held" + cap;
    case Mode::kUntilCoverageStable:
      return "until coverage is stable for " + std::to_string(plateau) + " seeds" + cap;
  }
  internal::checkFailed("known IterationControl::Mode", std::to_string(static_cast<int>(mode)),
                        std::source_location::current());
}

IterationControl SimulationSpec::effectiveIteration() const {
  if (iteration) return *iteration;
  return IterationControl::fixedCount(seeds.empty() ? 100 : seeds.size());
}

// ---- SimulationBuilder ---------------------------------------------------------------------

SimulationBuilder::SimulationBuilder(std::string name) {
  MOONPOOL_CHECK(!name.empty(), "a simulation needs a name");
  spec_.name = std::move(name);
}

SimulationBuilder& SimulationBuilder::processes(std::size_t count, std::string name,
                                                ProcessMain main,
                                                std::map<std::string, std::string> tags) {
  MOONPOOL_CHECK(count >= 1, "a process group needs at least one process");
  MOONPOOL_CHECK(!name.empty(), "a process group needs a name");
  MOONPOOL_CHECK(static_cast<bool>(main), "a process group needs a main function");
  spec_.processes.push_back(ProcessGroup{
      .name = std::move(name), .count = count, .main = std::move(main), .tags = std::move(tags)});
  return *this;
}

SimulationBuilder& SimulationBuilder::workload(Workload workload) {
  MOONPOOL_CHECK(!workload.name.empty(), "a workload needs a name");
  MOONPOOL_CHECK(static_cast<bool>(workload.run), "a workload needs run()");
  MOONPOOL_CHECK(workload.instances >= 1, "a workload needs at least one instance");
  spec_.workloads.push_back(std::move(workload));
  return *this;
}

SimulationBuilder& SimulationBuilder::chaos(ChaosOptions options) {
  spec_.chaos = std::move(options);
  return *this;
}

SimulationBuilder& SimulationBuilder::chaosDuration(Duration duration) {
  MOONPOOL_CHECK_GE(duration, Duration{0}, "a chaos duration cannot be negative");
  spec_.chaosDuration = duration;
  return *this;
}

SimulationBuilder& SimulationBuilder::settleDuration(Duration duration) {
  MOONPOOL_CHECK_GE(duration, Duration{0}, "a settle duration cannot be negative");
  spec_.settleDuration = duration;
  return *this;
}

SimulationBuilder& SimulationBuilder::iterations(std::uint64_t count) {
  return iteration(IterationControl::fixedCount(count));
}

SimulationBuilder& SimulationBuilder::timeBudget(Duration wall) {
  return iteration(IterationControl::wallTime(wall));
}

SimulationBuilder& SimulationBuilder::untilAllSometimesFired(std::uint64_t seedsMax) {
  return iteration(IterationControl::untilAllSometimesFired(seedsMax));
}

SimulationBuilder& SimulationBuilder::untilCoverageStable(std::uint64_t plateau,
                                                          std::uint64_t seedsMax) {
  return iteration(IterationControl::untilCoverageStable(plateau, seedsMax));
}

SimulationBuilder& SimulationBuilder::iteration(IterationControl control) {
  spec_.iteration = control;
  return *this;
}

SimulationBuilder& SimulationBuilder::seeds(std::vector<std::uint64_t> seeds) {
  spec_.seeds = std::move(seeds);
  return *this;
}

SimulationBuilder& SimulationBuilder::firstSeed(std::uint64_t seed) {
  spec_.firstSeed = seed;
  return *this;
}

SimulationBuilder& SimulationBuilder::externalLoop(ExternalLoopFactory factory) {
  MOONPOOL_CHECK(static_cast<bool>(factory), "SimulationBuilder::externalLoop: empty factory");
  spec_.externalLoop = std::move(factory);
  return *this;
}

void SimulationBuilder::declareShared(
    std::type_index type, std::function<void(SharedState& store, std::uint64_t seed)> install) {
  for (const SharedStateDecl& declared : spec_.sharedStates) {
    MOONPOOL_CHECK(declared.type != type, "sharedState<T>() declared twice for one type");
  }
  MOONPOOL_CHECK_LT(spec_.sharedStates.size(), SharedState::kEntriesMax,
                    "too many sharedState<T>() types");
  spec_.sharedStates.push_back(SharedStateDecl{.type = type, .install = std::move(install)});
}

SimulationBuilder& SimulationBuilder::explore(explorer::Config config) {
  char error[256] = {};
  MOONPOOL_CHECK(explorer::validate(config, error, sizeof error), error);
  spec_.exploration = config;
  return *this;
}

SimulationBuilder& SimulationBuilder::exploreOnRequest(explorer::Config config) {
  char error[256] = {};
  MOONPOOL_CHECK(explorer::validate(config, error, sizeof error), error);
  spec_.explorationOnRequest = config;
  return *this;
}

SimulationBuilder& SimulationBuilder::guards(Guards guards) {
  MOONPOOL_CHECK_GT(guards.simTimeBudget, Duration{0}, "a simulated-time budget must be positive");
  MOONPOOL_CHECK_GT(guards.progressCheckEvery, Duration{0},
                    "the watchdog interval must be positive");
  MOONPOOL_CHECK_GT(guards.stepsPerInstantMax, std::uint64_t{0});
  spec_.guards = guards;
  return *this;
}

// ---- WorkloadContext -----------------------------------------------------------------------

WorkloadContext::WorkloadContext(ProcessContext& process, std::string name, std::size_t instance,
                                 std::size_t instances, std::uint64_t seed, Event& chaosOver,
                                 const Timeline& timeline, TargetedFaults& faults)
    : process_(process),
      name_(std::move(name)),
      instance_(instance),
      instances_(instances),
      seed_(seed),
      chaosOver_(&chaosOver),
      timeline_(&timeline),
      faults_(&faults) {
  MOONPOOL_CHECK_LT(instance, instances);
}

void WorkloadContext::addMetric(const std::string& name, std::int64_t value) {
  mergeMetric(metrics_, name, Metric{.kind = Metric::Kind::kSum, .value = value});
}

void WorkloadContext::maxMetric(const std::string& name, std::int64_t value) {
  mergeMetric(metrics_, name, Metric{.kind = Metric::Kind::kMax, .value = value});
}

}  // namespace moonpool
