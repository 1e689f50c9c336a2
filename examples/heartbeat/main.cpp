// The main job: the heartbeat failure detector (heartbeat_world.h) run by the simulation
// runner over many seeds, with the runner's report.
//
//   heartbeat_sim [--seeds=N] [--first_seed=S] [--nodes=K] [--sim_seconds=T] [--verbose]
//                 [--seed=S] [--jobs=J] [--json=PATH] [--trace] [--time_budget=SECONDS]
//
// Each seed is one deterministic simulation; a failing seed prints the one-line command that
// reproduces it. Exit status: 0 when every seed and assertion contract passed, 1 when a
// property failed, 2 for bad flags.
#include "moonpool/runner/main.h"
#include "absl/flags/flag.h"
#include "heartbeat_world.h"

ABSL_FLAG(int32_t, nodes, 5, "cluster size (2..64)");
ABSL_FLAG(int64_t, sim_seconds, 300, "simulated seconds of pauses per seed (the chaos phase)");

namespace {

// Seeds the main job runs when --seeds is not given.
constexpr std::uint64_t kDefaultSeeds = 200;

absl::StatusOr<moonpool::SimulationBuilder> makeBuilder() {
  using moonpool::examples::HeartbeatOptions;
  const int nodes = absl::GetFlag(FLAGS_nodes);
  const std::int64_t simSeconds = absl::GetFlag(FLAGS_sim_seconds);
  if (nodes < 2 || nodes > HeartbeatOptions::kNodesMax) {
    return absl::InvalidArgumentError("--nodes must be in [2, " +
                                      std::to_string(HeartbeatOptions::kNodesMax) + "], got " +
                                      std::to_string(nodes));
  }
  if (simSeconds < 1 || simSeconds > 86'400 * 365) {
    return absl::InvalidArgumentError("--sim_seconds must be in [1, 31536000], got " +
                                      std::to_string(simSeconds));
  }
  HeartbeatOptions options;
  options.nodes = nodes;
  options.simulated = std::chrono::seconds(simSeconds);
  moonpool::SimulationBuilder builder = moonpool::examples::heartbeatSimulation(options);
  builder.iterations(kDefaultSeeds);
  // A seed simulates sim_seconds plus settling; anything far beyond is a hang.
  builder.guards(
      moonpool::Guards{.simTimeBudget = options.simulated * 2 + std::chrono::minutes(10)});
  return builder;
}

}  // namespace

int main(int argc, char** argv) { return moonpool::runMain(argc, argv, makeBuilder); }
