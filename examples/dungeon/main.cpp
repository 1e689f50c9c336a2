// dungeon_sim: the dungeon (dungeon.h) explored by forking timelines wherever a hero stands
// deeper or healthier than any before.
//
//   dungeon_sim [--steps=N] [--health=H] [--explore|--noexplore] [--energy=N] [--jobs=J]
//               [--edge_coverage=true|false] [--stop_at_first_bug] [--seeds=N] [--json=PATH]
//   dungeon_sim --replay='<recipe>'     # the line printed for a bug, replays it in-process
//
// Exploring (the default) finds the planted bug "treasure on floor 8 reached" and exits 1
// with its replay line; plain seeds (--noexplore) essentially never do (dungeon.cpp has the
// odds). Bad flags exit 2.
#include "absl/flags/flag.h"
#include "dungeon.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(int64_t, steps, 300, "steps per seed (1..100000)");
ABSL_FLAG(int32_t, health, 10, "the hero's maximum and starting health (1..1000)");

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    namespace dungeon = moonpool::examples::dungeon;
    const dungeon::DungeonOptions options{.stepsMax = absl::GetFlag(FLAGS_steps),
                                          .healthMax = absl::GetFlag(FLAGS_health)};
    if (absl::Status valid = dungeon::validateOptions(options); !valid.ok()) {
      return absl::InvalidArgumentError("--steps/--health: " + std::string(valid.message()));
    }
    moonpool::SimulationBuilder builder = dungeon::makeDungeonBuilder(options);
    builder.explore(dungeon::dungeonExploration()).iterations(dungeon::kDungeonSeeds);
    return builder;
  });
}
