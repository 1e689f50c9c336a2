// SimulationBuilder: how a user declares a simulation (runtime/ runner layer, public).
//
//   SimulationBuilder("kv")
//       .processes(3, "kv", runKvServer, {{"role", "server"}})
//       .workload(Workload{.name = "client", .run = runClient, .check = checkClient})
//       .chaos(ChaosOptions{.network = FaultProfile::kSwarm, .attrition = Attrition::kOn})
//       .chaosDuration(std::chrono::seconds(60))
//       .settleDuration(std::chrono::seconds(10))
//       .sharedState<Ghosts>()                   // one Ghosts per seed, for every process
//       .iterations(500);
//
// The builder only holds configuration (copyable; callables are TaskFunctions, shared). It
// is run by runSimulation() (runner.h), by runMain() (main.h, with flags) or by a gtest
// (gtest.h). Nothing here draws randomness: per-seed choices happen in the runner, from
// streams derived from the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/runner/workload.h"
#include "moonpool/sim/shared_state.h"
#include "moonpool/sim/sim_executor.h"
#include "moonpool/sim/world.h"
#include "moonpool/time.h"

namespace moonpool {

// How a fault surface (network, storage) is configured for each seed.
enum class FaultProfile : std::uint8_t {
  kQuiet,    // NetworkOptions::quiet() / StorageOptions::quiet(): no faults
  kGiven,    // exactly the options given in ChaosOptions
  kChaotic,  // NetworkOptions::chaotic / StorageOptions::chaotic drawn per seed
  kSwarm,    // chaotic, then each fault family switched off with probability 1/2 per seed
};
std::string_view faultProfileName(FaultProfile profile);

// Random reboots and pauses of the builder's processes during the chaos phase.
enum class Attrition : std::uint8_t {
  kOff,
  kOn,     // AttritionOptions as given
  kSwarm,  // per seed: with p 1/2 no reboots at all (deadMax 0), each kind weight zeroed
           // with p 1/2 (all zero means crash)
};
std::string_view attritionName(Attrition attrition);

struct ChaosOptions {
  FaultProfile network = FaultProfile::kQuiet;
  NetworkOptions givenNetwork = NetworkOptions::quiet();  // used with kGiven
  FaultProfile storage = FaultProfile::kQuiet;
  StorageOptions givenStorage = StorageOptions::quiet();  // used with kGiven
  Attrition attrition = Attrition::kOff;
  AttritionOptions attritionOptions{};
  BuggifyOptions buggify{.mode = BuggifyOptions::Mode::kOff};
  ClockDriftOptions clock{};
  GracefulOptions graceful{};
};

// When the run stops asking for more seeds.
struct IterationControl {
  enum class Mode : std::uint8_t {
    kFixedCount,              // exactly `count` seeds
    kWallBudget,              // until `wallBudget` of wall time is spent (at most `count`)
    kUntilAllSometimesFired,  // until every sometimes/reachable held once (at most `count`)
    kUntilCoverageStable,     // until the coverage signal has not grown for `plateau`
                              // consecutive seeds (at most `count`)
  };
  Mode mode = Mode::kFixedCount;
  std::uint64_t count = 100;
  Duration wallBudget{0};
  std::uint64_t plateau = 0;

  // Upper bound on any count: reaching it is reported like any other stop.
  static constexpr std::uint64_t kSeedsMax = std::uint64_t{1} << 40;

  static IterationControl fixedCount(std::uint64_t count);
  static IterationControl wallTime(Duration budget, std::uint64_t seedsMax = kSeedsMax);
  static IterationControl untilAllSometimesFired(std::uint64_t seedsMax);
  static IterationControl untilCoverageStable(std::uint64_t plateau, std::uint64_t seedsMax);
  // "fixed count: 100 seeds", "wall-time budget: 30s (at most ...)", ...
  std::string toString() const;
};

// Guards: a seed that would hang fails with a clear reason instead.
struct Guards {
  // Simulated time a seed may take from its start to the end of its checks.
  Duration simTimeBudget = std::chrono::hours(1);
  // How often (simulated) the watchdog looks for a world where nothing can happen any more;
  // it then stands aside so the executor reports the deadlock with every task's wait.
  Duration progressCheckEvery = std::chrono::seconds(1);
  // Steps at one instant before the executor declares a livelock.
  std::uint64_t stepsPerInstantMax = 1'000'000;
};

// Processes of the system under test: `count` processes named "<name>-1".."<name>-N".
struct ProcessGroup {
  std::string name{};
  std::size_t count = 1;
  ProcessMain main{};
  std::map<std::string, std::string> tags{};
};

// Makes the event source a seed's executor hosts besides its tasks: Cap'n Proto's KJ loop for
// a simulation that serves or calls RPC (&SimKjLoop::make, moonpool/kj/sim_kj_loop.h).
using ExternalLoopFactory = std::function<std::unique_ptr<ExternalLoop>(SimExecutor&)>;

// Makes one per-seed shared object (SimulationBuilder::sharedState) from the seed.
template <typename T>
using SharedStateFactory = std::function<std::unique_ptr<T>(std::uint64_t seed)>;

// A declared shared-state type, type-erased: `install` adds a fresh object to a seed's store.
struct SharedStateDecl {
  std::type_index type;
  std::function<void(SharedState& store, std::uint64_t seed)> install;
};

// Everything a builder declares, as plain data (the runner reads it).
struct SimulationSpec {
  std::string name{};
  std::vector<ProcessGroup> processes{};
  std::vector<Workload> workloads{};
  ChaosOptions chaos{};
  Duration chaosDuration{0};
  Duration settleDuration{0};
  std::optional<IterationControl> iteration{};  // default: fixed count (explicit seeds or 100)
  std::vector<std::uint64_t> seeds{};           // explicit seeds, run first
  std::uint64_t firstSeed = 1;                  // generated seeds: firstSeed, firstSeed + 1, ...
  Guards guards{};
  // Fork-based exploration of each seed (explorer/explorer.h); nullopt: plain seeds. Flags
  // can switch it on (--explore) or off (--noexplore) and override energy and parallelism.
  std::optional<explorer::Config> exploration{};
  // The configuration --explore uses when `exploration` is not set (seeds are then plain by
  // default): a simulation whose timelines are long keeps its energy small here.
  std::optional<explorer::Config> explorationOnRequest{};
  // Called once per seed before the world exists; the loop outlives the world and every
  // workload's state. Empty: no external loop (Cap'n Proto code then fails, naming SimKjLoop).
  ExternalLoopFactory externalLoop{};
  // Per-seed shared objects, created in this order when a seed's world is made, before any
  // process boots, and destroyed with the world (sim/shared_state.h).
  std::vector<SharedStateDecl> sharedStates{};

  // The iteration control in effect (the default filled in).
  IterationControl effectiveIteration() const;
};

class SimulationBuilder {
 public:
  explicit SimulationBuilder(std::string name);

  // Adds `count` processes built from `main` (called on every boot).
  SimulationBuilder& processes(std::size_t count, std::string name, ProcessMain main,
                               std::map<std::string, std::string> tags = {});
  SimulationBuilder& workload(Workload workload);
  SimulationBuilder& chaos(ChaosOptions options);
  // Length of the chaos phase (simulated), from the start of the run phase. 0: no chaos.
  SimulationBuilder& chaosDuration(Duration duration);
  // Quiet time after the chaos phase, every process running, before the checks.
  SimulationBuilder& settleDuration(Duration duration);

  SimulationBuilder& iterations(std::uint64_t count);
  SimulationBuilder& timeBudget(Duration wall);
  SimulationBuilder& untilAllSometimesFired(std::uint64_t seedsMax);
  SimulationBuilder& untilCoverageStable(std::uint64_t plateau, std::uint64_t seedsMax);
  SimulationBuilder& iteration(IterationControl control);
  SimulationBuilder& seeds(std::vector<std::uint64_t> seeds);
  SimulationBuilder& firstSeed(std::uint64_t seed);
  SimulationBuilder& guards(Guards guards);
  // Explores every seed: forks timelines at discoveries, as configured (runner.h, "Exploration").
  SimulationBuilder& explore(explorer::Config config);
  // The exploration config --explore switches on; seeds stay plain without the flag.
  SimulationBuilder& exploreOnRequest(explorer::Config config);
  // Hosts an external event loop in every seed, e.g. externalLoop(&SimKjLoop::make) for RPC.
  SimulationBuilder& externalLoop(ExternalLoopFactory factory);
  // Declares a per-seed object of type T shared by every process and workload of the seed
  // (ProcessContext::shared<T>(), WorkloadContext::shared<T>()): made fresh for each seed
  // (value-initialized, or by `make` from the seed), kept across process reboots, destroyed
  // when the seed ends. Declaring one type twice, or an empty or null-returning factory, is a
  // check failure. At most SharedState::kEntriesMax types.
  template <typename T>
  SimulationBuilder& sharedState() {
    declareShared(std::type_index(typeid(T)), [](SharedState& store, std::uint64_t) {
      store.add<T>(std::make_unique<T>());
    });
    return *this;
  }
  template <typename T>
  SimulationBuilder& sharedState(SharedStateFactory<T> make) {
    MOONPOOL_CHECK(static_cast<bool>(make), "sharedState<T>(make): an empty factory");
    declareShared(std::type_index(typeid(T)),
                  [make = std::move(make)](SharedState& store, std::uint64_t seed) {
                    std::unique_ptr<T> value = make(seed);
                    MOONPOOL_CHECK(value != nullptr, "a sharedState<T> factory returned null");
                    store.add<T>(std::move(value));
                  });
    return *this;
  }

  const SimulationSpec& spec() const { return spec_; }
  SimulationSpec& mutableSpec() { return spec_; }

 private:
  void declareShared(std::type_index type,
                     std::function<void(SharedState& store, std::uint64_t seed)> install);

  SimulationSpec spec_{};
};

}  // namespace moonpool
