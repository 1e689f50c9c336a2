// Goal: whenAll/whenAny semantics: results, exception propagation, loser cancellation,
// timeouts (tryWithin/within), and a seeded, not always-first, choice among children that
// finish at the same instant.
// Method: scenarios on a Simulation; tie-breaking is sampled over many seeds.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "moonpool/combinators.h"
#include "moonpool/sim/simulation.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

Task<int> valueAfter(TimeProvider& time, Duration d, int value) {
  co_await time.sleep(d);
  co_return value;
}

Task<void> failAfter(TimeProvider& time, Duration d) {
  co_await time.sleep(d);
  throw std::runtime_error("child failed");
}

Task<std::string> text(TimeProvider& time) {
  co_await time.sleep(1ms);
  co_return "x";
}

TEST(CombinatorsTest, WhenAllCollectsEveryResult) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time) -> Task<void> {
    auto [a, b, c] = co_await whenAll(valueAfter(time, 3s, 1), text(time), time.sleep(2s));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, "x");
    (void)c;  // std::monostate for the void child
    EXPECT_EQ(time.now(), TimePoint(3s)) << "children ran concurrently";
  };
  RunOutcome outcome = sim.run(main(sim.providers().time()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

TEST(CombinatorsTest, WhenAllOfAVector) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time) -> Task<void> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(valueAfter(time, Duration(i * 1ms), i));
    std::vector<int> values = co_await whenAll(std::move(tasks));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], i);
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time())).ok());
}

TEST(CombinatorsTest, WhenAllFailsFastAndCancelsTheRest) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](Simulation* s) -> Task<void> {
    TimeProvider& time = s->providers().time();
    std::string caught;
    try {
      co_await whenAll(valueAfter(time, 1h, 1), failAfter(time, 1s));
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_EQ(caught, "child failed");
    EXPECT_EQ(time.now(), TimePoint(1s)) << "did not wait for the slow child";
    EXPECT_EQ(s->executor().pendingTimers(), 0u) << "the slow child was cancelled";
  };
  ASSERT_TRUE(sim.run(main(&sim)).ok());
}

TEST(CombinatorsTest, WhenAnyReturnsTheFirstAndCancelsLosers) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](Simulation* s) -> Task<void> {
    TimeProvider& time = s->providers().time();
    auto winner = co_await whenAny(valueAfter(time, 5s, 5), valueAfter(time, 2s, 2),
                                   time.sleep(10s));
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_EQ(std::get<1>(winner), 2);
    EXPECT_EQ(s->executor().pendingTimers(), 0u) << "losers' timers are gone";
  };
  ASSERT_TRUE(sim.run(main(&sim)).ok());
}

TEST(CombinatorsTest, WhenAnyWinnerExceptionPropagates) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time) -> Task<void> {
    bool threw = false;
    try {
      co_await whenAny(failAfter(time, 1s), valueAfter(time, 2s, 2));
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time())).ok());
}

std::size_t tieWinner(std::uint64_t seed) {
  Simulation sim(SimOptions{.seed = seed});
  std::size_t winner = 99;
  auto main = [](TimeProvider& time, std::size_t* out) -> Task<void> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(valueAfter(time, 1s, i));
    auto [index, value] = co_await whenAny(std::move(tasks));
    EXPECT_EQ(static_cast<int>(index), value);
    *out = index;
  };
  EXPECT_TRUE(sim.run(main(sim.providers().time(), &winner)).ok());
  return winner;
}

TEST(CombinatorsTest, TiesAreASeededChoiceNotAlwaysFirst) {
  std::map<std::size_t, int> wins;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::size_t w = tieWinner(seed);
    EXPECT_EQ(w, tieWinner(seed)) << "same seed, same winner";
    ++wins[w];
  }
  ASSERT_EQ(wins.size(), 4u) << "every child wins for some seed";
  for (auto [index, count] : wins) EXPECT_GT(count, 20) << "child " << index;
}

TEST(CombinatorsTest, ReadyChildrenRaceToo) {
  std::map<std::size_t, int> wins;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Simulation sim(SimOptions{.seed = seed});
    auto main = [](std::map<std::size_t, int>* out) -> Task<void> {
      auto w = co_await whenAny(readyTask(1), readyTask(2));
      ++(*out)[w.index()];
    };
    ASSERT_TRUE(sim.run(main(&wins)).ok());
  }
  EXPECT_EQ(wins.size(), 2u);
}

TEST(CombinatorsTest, TryWithinAndWithin) {
  Simulation sim(SimOptions{.seed = 3});
  auto main = [](TimeProvider& time) -> Task<void> {
    std::optional<int> fast = co_await tryWithin(time, 2s, valueAfter(time, 1s, 7));
    EXPECT_EQ(fast, std::optional<int>(7));
    std::optional<int> slow = co_await tryWithin(time, 2s, valueAfter(time, 3s, 7));
    EXPECT_FALSE(slow.has_value());
    bool inTime = co_await tryWithin(time, 1s, time.sleep(10s));
    EXPECT_FALSE(inTime);
    bool threw = false;
    try {
      co_await within(time, 1s, valueAfter(time, 5s, 1), "fetch");
    } catch (const Exception& e) {
      threw = e.kind() == ErrorKind::kOverloaded &&
              e.description().find("fetch timed out") != std::string::npos;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(time.now(), TimePoint(5s));  // 1 + 2 (timed out) + 1 (timed out) + 1
  };
  RunOutcome outcome = sim.run(main(sim.providers().time()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

}  // namespace
}  // namespace moonpool
