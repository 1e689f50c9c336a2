// Goal: Task<T> is lazy, uses symmetric transfer, propagates exceptions, and destroying a Task
// cancels it (its frame and everything it awaits are torn down and deregistered).
// Method: run coroutines on a Simulation and observe side effects, RAII destructor counters,
// executor bookkeeping (pending timers, live tasks) and, under the asan preset, leaks.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "moonpool/sim/simulation.h"
#include "moonpool/task.h"
#include "support/destroy_counter.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

using test_support::DestroyCounter;

Task<int> answer() { co_return 42; }

Task<int> addOne(int x) {
  int value = co_await answer();
  co_return value + x;
}

TEST(TaskTest, LazyUntilAwaited) {
  Simulation sim(SimOptions{.seed = 1});
  int started = 0;
  auto body = [](int* flag) -> Task<int> {
    ++*flag;
    co_return 7;
  };
  Task<int> task = body(&started);
  EXPECT_EQ(started, 0) << "a Task must not run before it is awaited";
  int result = 0;
  auto main = [](Task<int> t, int* out) -> Task<void> { *out = co_await std::move(t); };
  RunOutcome outcome = sim.run(main(std::move(task), &result));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(started, 1);
  EXPECT_EQ(result, 7);
}

TEST(TaskTest, ValuesFlowThroughNestedAwaits) {
  Simulation sim(SimOptions{.seed = 1});
  int result = 0;
  auto main = [](int* out) -> Task<void> { *out = co_await addOne(8); };
  ASSERT_TRUE(sim.run(main(&result)).ok());
  EXPECT_EQ(result, 50);
}

Task<std::unique_ptr<std::string>> moveOnly() { co_return std::make_unique<std::string>("hi"); }

TEST(TaskTest, MoveOnlyResults) {
  Simulation sim(SimOptions{.seed = 1});
  std::string result;
  auto main = [](std::string* out) -> Task<void> { *out = *(co_await moveOnly()); };
  ASSERT_TRUE(sim.run(main(&result)).ok());
  EXPECT_EQ(result, "hi");
}

Task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}

Task<int> rethrowThrough() { co_return co_await thrower() + 1; }

TEST(TaskTest, ExceptionsPropagateThroughAwaitChains) {
  Simulation sim(SimOptions{.seed = 1});
  std::string caught;
  auto main = [](std::string* out) -> Task<void> {
    try {
      co_await rethrowThrough();
    } catch (const std::runtime_error& e) {
      *out = e.what();
    }
  };
  ASSERT_TRUE(sim.run(main(&caught)).ok());
  EXPECT_EQ(caught, "boom");
}

TEST(TaskTest, UncaughtExceptionFailsTheRunWithSeed) {
  Simulation sim(SimOptions{.seed = 77});
  auto main = []() -> Task<void> { co_await thrower(); };
  RunOutcome outcome = sim.run(main());
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_NE(outcome.message.find("boom"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("seed 77"), std::string::npos) << outcome.message;
}

Task<long> chainLink(long i) { co_return i; }

TEST(TaskTest, MillionSequentialAwaitsDoNotGrowTheStack) {
  Simulation sim(SimOptions{.seed = 1});
  long sum = 0;
  auto main = [](long* out) -> Task<void> {
    for (long i = 0; i < 1'000'000; ++i) *out += co_await chainLink(1);
  };
  ASSERT_TRUE(sim.run(main(&sum)).ok());
  EXPECT_EQ(sum, 1'000'000);
}

Task<int> recurse(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await recurse(depth - 1);
}

TEST(TaskTest, DeepRecursion) {
  Simulation sim(SimOptions{.seed = 1});
  int depth = 0;
  auto main = [](int* out) -> Task<void> { *out = co_await recurse(20'000); };
  ASSERT_TRUE(sim.run(main(&depth)).ok());
  EXPECT_EQ(depth, 20'000);
}

TEST(TaskTest, DestroyingAnUnstartedTaskDestroysItsFrame) {
  int destroyed = 0;
  {
    auto body = [](int* counter) -> Task<void> {
      DestroyCounter guard(counter);
      co_return;
    };
    Task<void> task = body(&destroyed);
    // Parameters live in the frame; the guard is not constructed yet (lazy).
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 0) << "the body never ran, so its local never existed";
}

Task<void> sleepingLeaf(TimeProvider& time, int* counter, bool* end) {
  DestroyCounter guard(counter);
  co_await time.sleep(10s);
  *end = true;
}

Task<void> middleFrame(TimeProvider& time, int* counter, bool* end) {
  DestroyCounter guard(counter);
  co_await sleepingLeaf(time, counter, end);
  *end = true;
}

Task<void> cancelChainMain(Simulation* sim, int* counter, bool* end) {
  TimeProvider& time = sim->providers().time();
  auto handle = sim->providers().tasks().spawn("chain", middleFrame(time, counter, end));
  co_await time.sleep(1s);  // the chain is now parked on its 10 s sleep
  EXPECT_EQ(sim->executor().pendingTimers(), 1u);
  handle.cancel();
  EXPECT_EQ(*counter, 2) << "both frames' locals destroyed at cancel time";
  EXPECT_EQ(sim->executor().pendingTimers(), 0u) << "the sleep's timer was deregistered";
  bool threw = false;
  try {
    co_await handle.join();
  } catch (const Exception& e) {
    threw = e.kind() == ErrorKind::kDisconnected;
  }
  EXPECT_TRUE(threw) << "joining a cancelled task reports kDisconnected";
}

// A task suspended deep inside a chain (two frames, a sleep at the bottom) is cancelled:
// every frame's locals are destroyed and the timer is deregistered.
TEST(TaskTest, DestroyingASuspendedTaskTearsDownTheWholeChain) {
  Simulation sim(SimOptions{.seed = 3});
  int destroyed = 0;
  bool reachedEnd = false;
  RunOutcome outcome = sim.run(cancelChainMain(&sim, &destroyed, &reachedEnd));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(reachedEnd);
  EXPECT_EQ(outcome.endTime, TimePoint(1s)) << "nothing waited for the cancelled sleep";
}

Task<void> dropChildMain(TimeProvider* time, int* counter, bool* end) {
  {
    Task<void> child = middleFrame(*time, counter, end);
    // Never awaited: destroyed at the end of this scope with its frame unstarted.
  }
  co_await time->sleep(1s);
}

TEST(TaskTest, DroppingAnUnawaitedChildCancelsIt) {
  Simulation sim(SimOptions{.seed = 3});
  int destroyed = 0;
  bool reachedEnd = false;
  TimeProvider& time = sim.providers().time();
  ASSERT_TRUE(sim.run(dropChildMain(&time, &destroyed, &reachedEnd)).ok());
  EXPECT_EQ(destroyed, 0);
  EXPECT_FALSE(reachedEnd);
}

TEST(TaskTest, MovedFromTaskIsEmpty) {
  auto body = []() -> Task<int> { co_return 1; };
  Task<int> a = body();
  Task<int> b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b.valid());
  Task<int> c;
  EXPECT_FALSE(c.valid());
  c = std::move(b);
  EXPECT_TRUE(c.valid());
}

}  // namespace
}  // namespace moonpool
