// Goal: KJ runs inside the simulator: a kj::Promise chain with kj timers, awaited from a Task,
// completes at the right simulated instants, identically for the same seed; kj timers and
// moonpool timers share one logical clock; KJ turns are scheduling decisions.
// Method: a SimKjLoop hosted by a Simulation; record simulated instants from inside KJ
// continuations; compare decision hashes across runs.
#include <gtest/gtest.h>

#include <kj/async.h>
#include <kj/vector.h>

#include <vector>

#include "moonpool/kj/bridge.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/sim/simulation.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

kj::Promise<int> kjChain(kj::Timer& timer, SimExecutor& executor, std::vector<TimePoint>* at) {
  return timer.afterDelay(10 * kj::MILLISECONDS)
      .then([&timer, &executor, at]() {
        at->push_back(executor.now());
        return timer.afterDelay(25 * kj::MILLISECONDS);
      })
      .then([&executor, at]() {
        at->push_back(executor.now());
        return 42;
      });
}

struct Observed {
  std::vector<TimePoint> at;
  int value = 0;
  RunOutcome outcome;
};

Task<void> awaitChain(Simulation* sim, kj::Timer* timer, Observed* out) {
  out->value = co_await awaitPromise(kjChain(*timer, sim->executor(), &out->at));
  out->at.push_back(sim->providers().time().now());
  // moonpool and KJ timers share the clock.
  co_await sim->providers().time().sleep(5ms);
  co_await awaitPromise(timer->afterDelay(5 * kj::MILLISECONDS));
  out->at.push_back(sim->providers().time().now());
}

Observed runChain(std::uint64_t seed) {
  Simulation sim(SimOptions{.seed = seed});
  SimKjLoop loop(sim.executor());
  Observed observed;
  observed.outcome = sim.run(awaitChain(&sim, &loop.timer(), &observed));
  return observed;
}

TEST(KjInSimTest, KjTimerChainCompletesAtSimulatedInstants) {
  Observed o = runChain(1);
  ASSERT_TRUE(o.outcome.ok()) << o.outcome.message;
  EXPECT_EQ(o.value, 42);
  ASSERT_EQ(o.at.size(), 4u);
  EXPECT_EQ(o.at[0], TimePoint(10ms));
  EXPECT_EQ(o.at[1], TimePoint(35ms));
  EXPECT_EQ(o.at[2], TimePoint(35ms));
  EXPECT_EQ(o.at[3], TimePoint(45ms));
}

TEST(KjInSimTest, SameSeedSameDecisions) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Observed a = runChain(seed);
    Observed b = runChain(seed);
    ASSERT_TRUE(a.outcome.ok());
    EXPECT_EQ(a.outcome.decisionHash, b.outcome.decisionHash);
    EXPECT_EQ(a.at, b.at);
  }
}

Task<void> manyKjTimers(kj::Timer* timer, SimExecutor* executor, std::vector<int>* order) {
  // Several KJ timers expiring at the same instant plus moonpool tasks: KJ turns interleave
  // with task steps as scheduling decisions.
  kj::Vector<kj::Promise<void>> promises;
  for (int i = 0; i < 5; ++i) {
    promises.add(
        timer->afterDelay(1 * kj::MILLISECONDS).then([order, i]() { order->push_back(i); }));
  }
  co_await awaitPromise(kj::joinPromises(promises.releaseAsArray()));
  EXPECT_EQ(executor->now(), TimePoint(1ms));
}

TEST(KjInSimTest, KjTurnsAreSchedulingDecisions) {
  Simulation sim(SimOptions{.seed = 3});
  SimKjLoop loop(sim.executor());
  std::vector<int> order;
  RunOutcome outcome = sim.run(manyKjTimers(&loop.timer(), &sim.executor(), &order));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(order.size(), 5u);
  EXPECT_GT(loop.turns(), 0u);
}

}  // namespace
}  // namespace moonpool
