// Goal: the RandomProvider contract (random.h) holds for the simulated (counted, seeded) and
// the real (OS-seeded) provider: below/between/index/unit/durationBetween stay in their
// ranges and reach both ends, chance(0) and chance(1) are certain, derive(name) gives the
// same stream for the same name however much the main stream was used in between (and a
// different one for another name), and shuffle permutes.
// Method: each case is one coroutine written against RandomProvider, run by both harnesses
// (harness.h). Range cases draw a few thousand values; "reaches both ends" checks use sizes
// where missing an end has probability below 1e-40.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

#include "harness.h"
#include "moonpool/random.h"

namespace moonpool::conformance {
namespace {

using namespace std::chrono_literals;

class RandomContract : public ContractTest {};

constexpr int kDraws = 2000;

Task<void> belowStaysInBounds(ContractEnv& env) {
  RandomProvider& random = env.providers.random();
  for (std::uint64_t bound : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{7},
                              std::uint64_t{1000}, std::uint64_t{1} << 40,
                              ~std::uint64_t{0}}) {
    std::set<std::uint64_t> seen;
    for (int i = 0; i < kDraws; ++i) {
      const std::uint64_t value = random.below(bound);
      EXPECT_LT(value, bound);
      seen.insert(value);
    }
    EXPECT_EQ(seen.size() > 1, bound > 1) << "bound " << bound << " drew " << seen.size()
                                          << " distinct values";
    if (bound <= 7) EXPECT_EQ(seen.size(), bound) << "bound " << bound << " missed a value";
  }
  for (std::size_t size : {std::size_t{1}, std::size_t{3}}) {
    for (int i = 0; i < 100; ++i) EXPECT_LT(random.index(size), size);
  }
  co_return;
}

TEST_P(RandomContract, BelowStaysInBounds) { runContract(belowStaysInBounds); }

Task<void> betweenStaysInBoundsAndReachesBothEnds(ContractEnv& env) {
  RandomProvider& random = env.providers.random();
  std::int64_t lowest = 100;
  std::int64_t highest = -100;
  for (int i = 0; i < kDraws; ++i) {
    const std::int64_t value = random.between(-5, 5);
    EXPECT_GE(value, -5);
    EXPECT_LT(value, 5);
    lowest = std::min(lowest, value);
    highest = std::max(highest, value);
  }
  EXPECT_EQ(lowest, -5);
  EXPECT_EQ(highest, 4);
  for (int i = 0; i < 100; ++i) {
    const Duration d = random.durationBetween(1ms, 3ms);
    EXPECT_GE(d, 1ms);
    EXPECT_LT(d, 3ms);
    const double u = random.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_FALSE(random.chance(Probability(0.0)));
    EXPECT_TRUE(random.chance(Probability(1.0)));
  }
  co_return;
}

TEST_P(RandomContract, BetweenStaysInBoundsAndReachesBothEnds) {
  runContract(betweenStaysInBoundsAndReachesBothEnds);
}

std::vector<std::uint64_t> firstDraws(RandomStream stream) {
  std::vector<std::uint64_t> draws(16);
  for (std::uint64_t& draw : draws) draw = stream.next();
  return draws;
}

Task<void> deriveSameNameSameStream(ContractEnv& env) {
  RandomProvider& random = env.providers.random();
  const std::vector<std::uint64_t> alpha = firstDraws(random.derive("alpha"));
  // Main-stream use in between must not change what a name derives.
  for (int i = 0; i < 5; ++i) (void)random.nextU64();
  EXPECT_EQ(firstDraws(random.derive("alpha")), alpha) << "same name, different stream";
  EXPECT_NE(firstDraws(random.derive("beta")), alpha) << "different names, same stream";
  co_return;
}

TEST_P(RandomContract, DeriveSameNameSameStream) { runContract(deriveSameNameSameStream); }

Task<void> shufflePermutes(ContractEnv& env) {
  RandomProvider& random = env.providers.random();
  std::vector<int> original(64);
  std::iota(original.begin(), original.end(), 0);
  std::vector<int> items = original;
  random.shuffle(std::span<int>(items));
  std::vector<int> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, original) << "shuffle lost or duplicated an element";
  EXPECT_NE(items, original) << "64 elements came back in order (chance 1 in 64!)";
  // Degenerate sizes are fine.
  std::vector<int> empty;
  random.shuffle(std::span<int>(empty));
  std::vector<int> one = {42};
  random.shuffle(std::span<int>(one));
  EXPECT_EQ(one, std::vector<int>{42});
  co_return;
}

TEST_P(RandomContract, ShufflePermutes) { runContract(shufflePermutes); }

INSTANTIATE_TEST_SUITE_P(Providers, RandomContract, testing::ValuesIn(allHarnesses()),
                         harnessName);

}  // namespace
}  // namespace moonpool::conformance
