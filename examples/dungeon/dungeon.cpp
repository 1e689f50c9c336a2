// The dungeon workload and its exploration settings (see dungeon.h).
//
// Why plain seeds never find the bug. With the defaults (10 health, key 0.03 per step,
// monsters 0.30 + 0.06 * floor per step dealing 1 .. 2 + floor / 2, potions 0.02 healing 3,
// 300 steps) an exact dynamic program over (floor, health) per step gives the probability
// that a plain seed reaches each floor:
//   floor   2     3      4      5       6       7       8       treasure
//           0.45  0.097  0.015  1.6e-3  1.5e-4  1.0e-5  6.6e-7  3.5e-8
// Each floor deeper keeps 6-22 % of the heroes (deeper monsters come more often and hit
// harder; the expected key wait of 33 steps costs more health than a hero has), and nearly
// every hero dies within the 300 steps (the survivors are under 1e-23). A few hundred plain
// seeds reach the treasure with odds around 1e-5.
//
// Why exploration does. Entering the dungeon is the first mark, so even a seed whose own
// hero dies at once explores. The timeline that first reaches a floor splits there (a new
// SOMETIMES_EACH_QUALITY bucket, and a new deepest-floor watermark), and so does any
// timeline that stands on a floor with more health than every earlier one did (a quality
// rise: a lucky potion). Children start from that floor and that health, and their very
// next draw is their next step, so the search keeps the healthiest heroes on the deepest
// floors: instead of the product of eight small odds, it pays about the sum of their
// inverses, a hundred timelines or so.
//
// Settings (dungeonExploration): the Rust project used adaptive {batch 30, min 400, max
// 1000, per mark 10,000, warm 30}, 400,000 timelines per seed, depth 120, 3 seeds; its
// dungeon needed them. This one needs far fewer: adaptive {batch 16, min 32, max 128, per
// mark 512, warm 16}, 5,000 timelines per seed, depth 60, stop at the first bug, 3 seeds.
// Measured on seeds 1-20, one cold seed each (test/bench/exploration_bench --runs=20,
// release): sequential found 20 of 20, median 84 timelines to the bug, worst 161; two in
// parallel 20 of 20 in each of three runs, medians 355-371, worst 713. 5,000 leaves a 7x
// margin.

#include "dungeon.h"

#include <algorithm>
#include <string>

#include "moonpool/assertions.h"

namespace moonpool::examples::dungeon {
namespace {

struct HeroState {
  int floor = 1;
  int health = 0;
  std::int64_t steps = 0;
  std::int64_t fights = 0;
  std::int64_t potions = 0;
  bool treasure = false;
};

enum class Room : std::uint8_t { kKey, kMonster, kPotion, kEmpty };

double monsterChance(const DungeonOptions& options, int floor) {
  return options.monsterBase + options.monsterPerFloor * floor;
}

// One draw of the counted main stream decides the room (a forked child's first draw).
Room drawRoom(RandomProvider& random, const DungeonOptions& options, int floor) {
  const double u = random.unit();
  double bound = options.key.value();
  if (u < bound) return Room::kKey;
  bound += monsterChance(options, floor);
  if (u < bound) return Room::kMonster;
  bound += options.potion.value();
  if (u < bound) return Room::kPotion;
  return Room::kEmpty;
}

int damageMax(int floor) { return 2 + floor / 2; }

// What the explorer splits on: where the hero stands and how healthy it is there.
void markProgress(const HeroState& hero) {
  MOONPOOL_SOMETIMES_EACH_QUALITY("hero health on floor", hero.health, hero.floor);
  MOONPOOL_SOMETIMES_GE(hero.floor, kFloors, "deepest floor reached");
}

// One step: draws the room and applies it to the hero.
Room step(RandomProvider& random, const DungeonOptions& options, HeroState& hero) {
  ++hero.steps;
  const Room room = drawRoom(random, options, hero.floor);
  switch (room) {
    case Room::kKey:
      if (hero.floor == kFloors) {
        // The planted bug: the treasure was never meant to be reachable.
        MOONPOOL_UNREACHABLE("treasure on floor 8 reached");
        hero.treasure = true;
        break;
      }
      ++hero.floor;
      MOONPOOL_ALWAYS_LE(hero.floor, kFloors, "no floor below the last");
      break;
    case Room::kMonster:
      ++hero.fights;
      hero.health -= 1 + static_cast<int>(random.below(static_cast<std::uint64_t>(
                             damageMax(hero.floor))));
      break;
    case Room::kPotion:
      ++hero.potions;
      hero.health = std::min(options.healthMax, hero.health + options.potionHeal);
      MOONPOOL_ALWAYS_LE(hero.health, options.healthMax, "potions never overheal");
      break;
    case Room::kEmpty:
      break;
  }
  return room;
}

struct Hero {
  DungeonOptions options;

  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return walk(ctx, options);
  }

  static Task<void> walk(WorkloadContext& ctx, DungeonOptions options) {
    HeroState& hero = ctx.state<HeroState>();
    hero.health = options.healthMax;
    RandomProvider& random = ctx.providers().random();
    // Entering floor 1 is the first mark: exploring starts even for a hero that dies early.
    markProgress(hero);
    while (hero.steps < options.stepsMax) {
      const Room room = step(random, options, hero);
      if (hero.health <= 0 || hero.treasure) break;
      // Only a key or a potion can make the hero deeper or healthier: the explorer's marks
      // are evaluated there, so a split's children differ from their next step on.
      if (room == Room::kKey || room == Room::kPotion) markProgress(hero);
      co_await ctx.providers().time().sleep(options.stepGap);
    }
    ctx.addMetric("deaths", hero.health <= 0 ? 1 : 0);
    ctx.addMetric("fights", hero.fights);
    ctx.addMetric("potions", hero.potions);
    ctx.maxMetric("deepest floor", hero.floor);
  }
};

}  // namespace

absl::Status validateOptions(const DungeonOptions& options) {
  auto bad = [](const std::string& what) { return absl::InvalidArgumentError("dungeon " + what); };
  if (options.stepsMax < 1 || options.stepsMax > kStepsMax) {
    return bad("stepsMax must be in [1, " + std::to_string(kStepsMax) + "], got " +
               std::to_string(options.stepsMax));
  }
  if (options.healthMax < 1 || options.healthMax > kHealthMax) {
    return bad("healthMax must be in [1, " + std::to_string(kHealthMax) + "], got " +
               std::to_string(options.healthMax));
  }
  if (options.potionHeal < 0 || options.potionHeal > options.healthMax) {
    return bad("potionHeal must be in [0, healthMax], got " + std::to_string(options.potionHeal));
  }
  if (options.monsterBase < 0.0 || options.monsterPerFloor < 0.0) {
    return bad("monster probabilities must not be negative");
  }
  // One draw decides the room: key, monster and potion must fit in [0, 1) on every floor.
  const double deepest = options.key.value() + monsterChance(options, kFloors) +
                         options.potion.value();
  if (deepest > 1.0) {
    return bad("key + monster + potion probabilities exceed 1 on floor 8 (" +
               std::to_string(deepest) + ")");
  }
  if (options.stepGap < Duration::zero()) return bad("stepGap must not be negative");
  return absl::OkStatus();
}

SimulationBuilder makeDungeonBuilder(DungeonOptions options) {
  const absl::Status valid = validateOptions(options);
  MOONPOOL_CHECK(valid.ok(), std::string(valid.message()));
  SimulationBuilder builder("dungeon");
  builder.workload(Workload{.name = "hero", .run = Hero{options}});
  // A seed is at most stepsMax * stepGap of simulated time; anything far beyond is a hang.
  builder.guards(
      Guards{.simTimeBudget = options.stepGap * (options.stepsMax + 1) + std::chrono::minutes(1)});
  return builder;
}

explorer::Config dungeonExploration() {
  return explorer::Config{
      .energyPerSeed = 5'000,
      .depthMax = 60,
      .mode = explorer::EnergyMode::kAdaptive,
      .adaptive = {.batch = 16,
                   .timelinesMin = 32,
                   .timelinesMax = 128,
                   .perMarkEnergy = 512,
                   .warmTimelinesMin = 16},
      .bugs = explorer::BugPolicy::kStopAtFirst,
  };
}

}  // namespace moonpool::examples::dungeon
