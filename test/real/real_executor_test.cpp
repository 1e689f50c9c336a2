// Goal: the production executor runs the same Task code on KJ's event loop with real timers:
// sleeps take real time, ordering follows deadlines, spawn/join/whenAny/cancel behave as in
// simulation, failures surface in the outcome, and always-ready tasks do not starve timers.
// Method: short real sleeps (tens of ms) measured against the executor's monotonic clock;
// bounds are loose enough for a loaded 2-core CI machine.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/real/wall_clock.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

Task<void> appendAfter(TimeProvider& time, Duration d, int id, std::vector<int>* order) {
  co_await time.sleep(d);
  order->push_back(id);
}

TEST(RealExecutorTest, RealTimersFireInDeadlineOrder) {
  RealRuntime runtime;
  std::vector<int> order;
  TimePoint started, ended;
  auto main = [](Providers p, std::vector<int>* out, TimePoint* t0, TimePoint* t1) -> Task<void> {
    *t0 = p.time().now();
    auto c = p.tasks().spawn("c", appendAfter(p.time(), 60ms, 3, out));
    auto a = p.tasks().spawn("a", appendAfter(p.time(), 20ms, 1, out));
    auto b = p.tasks().spawn("b", appendAfter(p.time(), 40ms, 2, out));
    co_await c.join();
    co_await a.join();
    co_await b.join();
    *t1 = p.time().now();
  };
  RunOutcome outcome = runtime.run(main(runtime.providers(), &order, &started, &ended));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(ended - started, 60ms);
  EXPECT_LT(ended - started, 2s);
}

TEST(RealExecutorTest, WhenAnyTimeoutCancelsTheSlowSide) {
  RealRuntime runtime;
  auto main = [](Providers p) -> Task<void> {
    TimePoint t0 = p.time().now();
    bool inTime = co_await tryWithin(p.time(), 30ms, p.time().sleep(10s));
    EXPECT_FALSE(inTime);
    EXPECT_LT(p.time().now() - t0, 5s) << "did not wait for the 10 s sleep";
  };
  RunOutcome outcome = runtime.run(main(runtime.providers()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

// KJ's timer advances once per loop turn. A task that blocks the thread (here 2 s, as a slow
// fsync would) and then sleeps must still sleep the full second: the deadline is taken from
// the clock when sleep() is called, not from the loop's last turn.
TEST(RealExecutorTest, SleepAfterBlockingWorkTakesItsFullTime) {
  RealRuntime runtime;
  auto main = [](Providers p) -> Task<void> {
    co_await p.time().sleep(1ms);  // start from a fresh loop turn
    const TimePoint beforeBlock = p.time().now();
    std::this_thread::sleep_for(2s);
    const TimePoint afterBlock = p.time().now();
    EXPECT_GE(afterBlock - beforeBlock, 2s) << "now() did not see the blocked time";
    WallTimer real;
    co_await p.time().sleep(1s);
    EXPECT_GE(real.elapsed(), 1s);
    EXPECT_GE(p.time().now() - afterBlock, 1s);
  };
  RunOutcome outcome = runtime.run(main(runtime.providers()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

Task<void> failSoon(TimeProvider& time) {
  co_await time.sleep(1ms);
  throw std::runtime_error("real failure");
}

TEST(RealExecutorTest, FailuresSurface) {
  RealRuntime runtime;
  auto main = [](Providers p) -> Task<void> { co_await failSoon(p.time()); };
  RunOutcome outcome = runtime.run(main(runtime.providers()));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_NE(outcome.message.find("real failure"), std::string::npos);
}

TEST(RealExecutorTest, YieldAndManyTasks) {
  RealRuntime runtime;
  int done = 0;
  auto spin = [](TaskProvider& tasks, int* counter) -> Task<void> {
    for (int i = 0; i < 100; ++i) co_await tasks.yield();
    ++*counter;
  };
  auto main = [spin](Providers p, int* counter) -> Task<void> {
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < 50; ++i) {
      handles.push_back(p.tasks().spawn("spin", spin(p.tasks(), counter)));
    }
    for (auto& h : handles) co_await h.join();
  };
  ASSERT_TRUE(runtime.run(main(runtime.providers(), &done)).ok());
  EXPECT_EQ(done, 50);
}

// Tasks that are always ready (KJ's queue never empties) do not starve timers: KJ polls
// every few turns even while busy.
TEST(RealExecutorTest, BusyTasksDoNotStarveTimers) {
  constexpr int kYieldsMax = 5'000'000;  // far more than a 5 ms sleep needs
  RealRuntime runtime;
  struct Seen {
    bool slept = false;
    int yieldsBeforeWake = -1;
  } seen;
  auto spin = [](TaskProvider& tasks, Seen* out) -> Task<void> {
    for (int i = 0; i < kYieldsMax && !out->slept; ++i) {
      co_await tasks.yield();
      out->yieldsBeforeWake = i + 1;
    }
  };
  auto sleeper = [](TimeProvider& time, Seen* out) -> Task<void> {
    co_await time.sleep(5ms);
    out->slept = true;
  };
  auto main = [spin, sleeper](Providers p, Seen* out) -> Task<void> {
    JoinHandle<void> spinning = p.tasks().spawn("spin", spin(p.tasks(), out));
    co_await sleeper(p.time(), out);
    co_await spinning.join();
  };
  ASSERT_TRUE(runtime.run(main(runtime.providers(), &seen)).ok());
  EXPECT_TRUE(seen.slept);
  EXPECT_LT(seen.yieldsBeforeWake, kYieldsMax) << "the timer fired only after the spinner ended";
}

}  // namespace
}  // namespace moonpool
