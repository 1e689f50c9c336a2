// maze_sim: the maze (maze.h) explored by forking timelines at every gate passed.
//
//   maze_sim [--rounds=R] [--explore|--noexplore] [--energy=N] [--jobs=J]
//            [--edge_coverage=true|false] [--stop_at_first_bug] [--seeds=N] [--json=PATH]
//   maze_sim --replay='<recipe>'        # the line printed for a bug, replays it in-process
//
// Exploring (the default) finds the planted bug "all 4 locks opened" and exits 1 with its
// replay line; plain seeds (--noexplore) essentially never do (maze.cpp has the odds) and
// exit 1 too, for the lock-opened sometimes that never held. Bad flags exit 2.
#include "absl/flags/flag.h"
#include "maze.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(int64_t, rounds, 100, "rounds of attempts per seed (1..100000)");

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    namespace maze = moonpool::examples::maze;
    const maze::MazeOptions options{.rounds = absl::GetFlag(FLAGS_rounds)};
    if (absl::Status valid = maze::validateOptions(options); !valid.ok()) {
      return absl::InvalidArgumentError("--rounds: " + std::string(valid.message()));
    }
    moonpool::SimulationBuilder builder = maze::makeMazeBuilder(options);
    builder.explore(maze::mazeExploration()).iterations(maze::kMazeSeeds);
    return builder;
  });
}
