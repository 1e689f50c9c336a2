// Goal: every bad option of the two examples is refused with a message naming the field and
// the bound (the sim binaries print it and exit 2; explore_test checks one per binary).
// Method: validateOptions() on the defaults (accepted) and on one bad field at a time.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dungeon.h"
#include "maze.h"

namespace moonpool {
namespace {

using examples::dungeon::DungeonOptions;
using examples::maze::MazeOptions;

std::string messageOf(const absl::Status& status) { return std::string(status.message()); }

TEST(ExampleOptions, MazeDefaultsAreValid) {
  EXPECT_TRUE(examples::maze::validateOptions(MazeOptions{}).ok());
}

TEST(ExampleOptions, MazeRefusesEachBadField) {
  const std::vector<std::pair<MazeOptions, std::string>> cases = {
      {MazeOptions{.rounds = 0}, "maze rounds must be in [1, 100000], got 0"},
      {MazeOptions{.rounds = 100'001}, "maze rounds must be in [1, 100000], got 100001"},
      {MazeOptions{.roundGap = std::chrono::milliseconds(-1)},
       "maze roundGap must not be negative"},
  };
  for (const auto& [options, message] : cases) {
    const absl::Status status = examples::maze::validateOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(messageOf(status).find(message), std::string::npos) << messageOf(status);
  }
}

TEST(ExampleOptions, DungeonDefaultsAreValid) {
  EXPECT_TRUE(examples::dungeon::validateOptions(DungeonOptions{}).ok());
}

TEST(ExampleOptions, DungeonRefusesEachBadField) {
  const std::vector<std::pair<DungeonOptions, std::string>> cases = {
      {DungeonOptions{.stepsMax = 0}, "dungeon stepsMax must be in [1, 100000], got 0"},
      {DungeonOptions{.healthMax = 0}, "dungeon healthMax must be in [1, 1000], got 0"},
      {DungeonOptions{.healthMax = 1'001}, "dungeon healthMax must be in [1, 1000], got 1001"},
      {DungeonOptions{.potionHeal = 11}, "dungeon potionHeal must be in [0, healthMax], got 11"},
      {DungeonOptions{.potionHeal = -1}, "dungeon potionHeal must be in [0, healthMax], got -1"},
      {DungeonOptions{.monsterBase = -0.1}, "dungeon monster probabilities must not be negative"},
      {DungeonOptions{.monsterPerFloor = -0.01},
       "dungeon monster probabilities must not be negative"},
      {DungeonOptions{.monsterPerFloor = 0.1},
       "dungeon key + monster + potion probabilities exceed 1 on floor 8"},
      {DungeonOptions{.stepGap = std::chrono::seconds(-1)},
       "dungeon stepGap must not be negative"},
  };
  for (const auto& [options, message] : cases) {
    const absl::Status status = examples::dungeon::validateOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(messageOf(status).find(message), std::string::npos) << messageOf(status);
  }
}

}  // namespace
}  // namespace moonpool
