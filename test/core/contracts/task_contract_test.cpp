// Goal: the TaskProvider contract (providers.h, spawn.h) holds on both executors: spawn
// never runs a task inline, join yields the value or rethrows the failure, cancel and a
// dropped handle stop a task for good, a group's cancelAll stops every task it holds,
// detached tasks run to the end, and yield() lets other ready tasks run.
// Method: each case is one coroutine written against TaskProvider and TimeProvider, run by
// both harnesses (harness.h). "Never happens" is checked by waiting well past the time the
// cancelled work would have needed (tens of ms), then looking at its side effect.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"
#include "moonpool/error.h"
#include "moonpool/spawn.h"

namespace moonpool::conformance {
namespace {

using namespace std::chrono_literals;

class TaskContract : public ContractTest {};

Task<int> valueAfter(TimeProvider& time, Duration delay, int value) {
  co_await time.sleep(delay);
  co_return value;
}

Task<void> markAfter(TimeProvider& time, Duration delay, bool* flag) {
  co_await time.sleep(delay);
  *flag = true;
}

Task<void> spawnJoinValue(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  TaskProvider& tasks = env.providers.tasks();
  JoinHandle<int> slow = tasks.spawn("slow", valueAfter(time, 5ms, 1));
  JoinHandle<int> fast = tasks.spawn("fast", valueAfter(time, 1ms, 2));
  JoinHandle<int> now = tasks.spawn("now", valueAfter(time, 0ms, 3));
  // Joined in an order unrelated to completion: every value still arrives.
  EXPECT_EQ(co_await slow.join(), 1);
  EXPECT_TRUE(fast.done()) << "the 1 ms task outlived the 5 ms one";
  EXPECT_EQ(co_await fast.join(), 2);
  EXPECT_EQ(co_await now.join(), 3);
}

TEST_P(TaskContract, SpawnJoinValue) { runContract(spawnJoinValue); }

Task<void> setFlag(bool* flag) {
  *flag = true;
  co_return;
}

Task<void> spawnNeverRunsInline(ContractEnv& env) {
  bool ran = false;
  JoinHandle<void> handle = env.providers.tasks().spawn("flag", setFlag(&ran));
  EXPECT_FALSE(ran) << "spawn() ran the task inline";
  co_await handle.join();
  EXPECT_TRUE(ran);
}

TEST_P(TaskContract, SpawnNeverRunsInline) { runContract(spawnNeverRunsInline); }

Task<int> failAfter(TimeProvider& time) {
  co_await time.sleep(1ms);
  throw Exception(ErrorKind::kFailed, "contract failure");
}

Task<void> joinRethrowsTheFailure(ContractEnv& env) {
  JoinHandle<int> handle = env.providers.tasks().spawn("fails", failAfter(env.providers.time()));
  std::optional<ErrorKind> kind;
  std::string description;
  try {
    (void)co_await handle.join();
  } catch (const Exception& error) {
    kind = error.kind();
    description = error.description();
  }
  EXPECT_EQ(kind, std::optional<ErrorKind>(ErrorKind::kFailed));
  EXPECT_EQ(description, "contract failure");
}

TEST_P(TaskContract, JoinRethrowsTheFailure) { runContract(joinRethrowsTheFailure); }

Task<void> cancelStopsTheTask(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  bool finished = false;
  JoinHandle<void> handle = env.providers.tasks().spawn("victim", markAfter(time, 10ms, &finished));
  co_await time.sleep(1ms);  // let it start and block in its sleep
  handle.cancel();
  EXPECT_TRUE(handle.done());
  EXPECT_TRUE(handle.cancelled());
  std::optional<ErrorKind> kind;
  try {
    co_await handle.join();
  } catch (const Exception& error) {
    kind = error.kind();
  }
  EXPECT_EQ(kind, std::optional<ErrorKind>(ErrorKind::kDisconnected));
  co_await time.sleep(30ms);
  EXPECT_FALSE(finished) << "a cancelled task ran on";
}

TEST_P(TaskContract, CancelStopsTheTask) { runContract(cancelStopsTheTask); }

Task<void> droppingTheHandleCancels(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  bool finished = false;
  {
    JoinHandle<void> dropped =
        env.providers.tasks().spawn("dropped", markAfter(time, 5ms, &finished));
  }
  bool detachedFinished = false;
  env.providers.tasks().spawn("detached", markAfter(time, 5ms, &detachedFinished)).detach();
  co_await time.sleep(30ms);
  EXPECT_FALSE(finished) << "a task whose handle was dropped ran on";
  EXPECT_TRUE(detachedFinished) << "a detached task did not run to its end";
}

TEST_P(TaskContract, DroppingTheHandleCancelsButDetachDoesNot) {
  runContract(droppingTheHandleCancels);
}

Task<void> groupCancelAllStopsEveryTask(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  TaskGroup group(env.providers.tasks().group().executor(), "contract-group");
  bool finished[3] = {false, false, false};
  std::vector<JoinHandle<void>> handles;
  for (bool& flag : finished) {
    handles.push_back(group.spawn("member", markAfter(time, 10ms, &flag)));
  }
  JoinHandle<int> quick = group.spawn("quick", valueAfter(time, 0ms, 5));
  EXPECT_EQ(co_await quick.join(), 5);
  EXPECT_EQ(group.size(), handles.size());
  group.cancelAll();
  EXPECT_EQ(group.size(), std::size_t{0});
  for (JoinHandle<void>& handle : handles) EXPECT_TRUE(handle.cancelled());
  EXPECT_FALSE(quick.cancelled()) << "cancelAll touched a task that had already finished";
  co_await time.sleep(30ms);
  for (bool flag : finished) EXPECT_FALSE(flag) << "a task of a cancelled group ran on";
}

TEST_P(TaskContract, GroupCancelAllStopsEveryTask) { runContract(groupCancelAllStopsEveryTask); }

Task<void> countYields(TaskProvider& tasks, int rounds, int* counter) {
  for (int i = 0; i < rounds; ++i) {
    ++*counter;
    co_await tasks.yield();
  }
}

Task<void> yieldLetsOthersRun(ContractEnv& env) {
  TaskProvider& tasks = env.providers.tasks();
  bool ran = false;
  JoinHandle<void> other = tasks.spawn("other", setFlag(&ran));
  // The scheduler may hand the CPU straight back to a yielder (a seeded choice in
  // simulation), so yield until the other task ran, within a generous bound.
  for (int i = 0; i < 1000 && !ran; ++i) co_await tasks.yield();
  EXPECT_TRUE(ran) << "yield() never let a ready task run";
  co_await other.join();

  // Two yielding tasks both make progress while neither sleeps.
  int a = 0;
  int b = 0;
  JoinHandle<void> first = tasks.spawn("a", countYields(tasks, 50, &a));
  JoinHandle<void> second = tasks.spawn("b", countYields(tasks, 50, &b));
  co_await first.join();
  co_await second.join();
  EXPECT_EQ(a, 50);
  EXPECT_EQ(b, 50);
}

TEST_P(TaskContract, YieldLetsOthersRun) { runContract(yieldLetsOthersRun); }

INSTANTIATE_TEST_SUITE_P(Providers, TaskContract, testing::ValuesIn(allHarnesses()),
                         harnessName);

}  // namespace
}  // namespace moonpool::conformance
