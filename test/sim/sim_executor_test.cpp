// Goal: the simulated executor's contract: logical time that jumps over idle gaps, seeded
// (not FIFO) interleaving, spawn/join/cancel through task groups, deadlock and livelock
// detection with the seed and the blocked tasks named, unobserved failures failing the run,
// and no task surviving the end of a run.
// Method: small scenarios on a Simulation; assertions on outcomes, simulated instants,
// recorded orders and executor bookkeeping.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "moonpool/channel.h"
#include "moonpool/sim/simulation.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

Task<void> sleepAndRecord(TimeProvider& time, Duration d, std::vector<TimePoint>* at) {
  co_await time.sleep(d);
  at->push_back(time.now());
}

TEST(SimExecutorTest, TimeJumpsToTimersAndSleepsEndOnTime) {
  Simulation sim(SimOptions{.seed = 5});
  std::vector<TimePoint> at;
  auto main = [](Providers p, std::vector<TimePoint>* out) -> Task<void> {
    co_await sleepAndRecord(p.time(), 3h, out);
    co_await sleepAndRecord(p.time(), 250ms, out);
    co_await sleepAndRecord(p.time(), 0s, out);
  };
  RunOutcome outcome = sim.run(main(sim.providers(), &at));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[0], TimePoint(3h));
  EXPECT_EQ(at[1], TimePoint(3h + 250ms));
  EXPECT_EQ(at[2], TimePoint(3h + 250ms));
  EXPECT_EQ(outcome.endTime, TimePoint(3h + 250ms));
  EXPECT_LT(outcome.steps, 20u) << "idle time costs no steps";
}

Task<void> appendAfter(TimeProvider& time, Duration d, int id, std::vector<int>* order) {
  co_await time.sleep(d);
  order->push_back(id);
}

Task<void> spawnRacers(Providers p, int count, std::vector<int>* order) {
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < count; ++i) {
    handles.push_back(p.tasks().spawn("racer", appendAfter(p.time(), 1s, i, order)));
  }
  for (auto& h : handles) co_await h.join();
}

std::vector<int> raceOrder(std::uint64_t seed) {
  Simulation sim(SimOptions{.seed = seed});
  std::vector<int> order;
  RunOutcome outcome = sim.run(spawnRacers(sim.providers(), 8, &order));
  EXPECT_TRUE(outcome.ok()) << outcome.message;
  return order;
}

TEST(SimExecutorTest, SimultaneousTimersRaceInASeededOrder) {
  std::set<std::vector<int>> orders;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<int> order = raceOrder(seed);
    ASSERT_EQ(order.size(), 8u);
    EXPECT_EQ(order, raceOrder(seed)) << "same seed, same order";
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 10u) << "different seeds explore different interleavings";
}

TEST(SimExecutorTest, OrderingAcrossDifferentInstantsIsByTime) {
  Simulation sim(SimOptions{.seed = 9});
  std::vector<int> order;
  auto main = [](Providers p, std::vector<int>* out) -> Task<void> {
    auto a = p.tasks().spawn("c", appendAfter(p.time(), 3ms, 3, out));
    auto b = p.tasks().spawn("a", appendAfter(p.time(), 1ms, 1, out));
    auto c = p.tasks().spawn("b", appendAfter(p.time(), 2ms, 2, out));
    co_await a.join();
    co_await b.join();
    co_await c.join();
  };
  ASSERT_TRUE(sim.run(main(sim.providers(), &order)).ok());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

Task<int> compute(TimeProvider& time, int x) {
  co_await time.sleep(10ms);
  co_return x * 2;
}

TEST(SimExecutorTest, SpawnReturnsAJoinHandleWithTheValue) {
  Simulation sim(SimOptions{.seed = 2});
  int result = 0;
  auto main = [](Providers p, int* out) -> Task<void> {
    JoinHandle<int> h = p.tasks().spawn("compute", compute(p.time(), 21));
    EXPECT_FALSE(h.done()) << "spawn never runs the task inline";
    *out = co_await h.join();
    EXPECT_TRUE(h.done());
  };
  ASSERT_TRUE(sim.run(main(sim.providers(), &result)).ok());
  EXPECT_EQ(result, 42);
}

Task<void> failLater(TimeProvider& time) {
  co_await time.sleep(1s);
  throw std::runtime_error("spawned failure");
}

TEST(SimExecutorTest, JoinRethrowsTheTaskException) {
  Simulation sim(SimOptions{.seed = 2});
  std::string caught;
  auto main = [](Providers p, std::string* out) -> Task<void> {
    auto h = p.tasks().spawn("failing", failLater(p.time()));
    try {
      co_await h.join();
    } catch (const std::runtime_error& e) {
      *out = e.what();
    }
  };
  RunOutcome outcome = sim.run(main(sim.providers(), &caught));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(caught, "spawned failure");
}

TEST(SimExecutorTest, UnobservedFailureOfADetachedTaskFailsTheRun) {
  Simulation sim(SimOptions{.seed = 31});
  auto main = [](Providers p) -> Task<void> {
    p.tasks().spawn("fire-and-forget", failLater(p.time())).detach();
    co_await p.time().sleep(5s);
  };
  RunOutcome outcome = sim.run(main(sim.providers()));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_NE(outcome.message.find("fire-and-forget"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("spawned failure"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("seed 31"), std::string::npos) << outcome.message;
}

TEST(SimExecutorTest, DeadlockIsReportedWithSeedAndBlockedTasks) {
  Simulation sim(SimOptions{.seed = 1234});
  auto main = [](Providers p) -> Task<void> {
    Channel<int> never(1);
    auto waiter = p.tasks().spawn("stuck-receiver", [](Channel<int>* c) -> Task<void> {
      (void)co_await c->receive();
    }(&never));
    co_await p.time().sleep(2s);
    co_await waiter.join();
  };
  RunOutcome outcome = sim.run(main(sim.providers()));
  EXPECT_EQ(outcome.status, RunStatus::kDeadlock);
  EXPECT_EQ(outcome.seed, 1234u);
  EXPECT_EQ(outcome.endTime, TimePoint(2s));
  EXPECT_NE(outcome.message.find("seed 1234"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("'stuck-receiver' awaiting an empty channel"), std::string::npos)
      << outcome.message;
  EXPECT_NE(outcome.message.find("'main' awaiting a join"), std::string::npos) << outcome.message;
  EXPECT_EQ(sim.executor().liveTasks(), 0u) << "a failed run still cleans up";
}

TEST(SimExecutorTest, BusyYieldingIsALivelock) {
  Simulation sim(SimOptions{.seed = 8, .stepsPerInstantMax = 10'000});
  auto main = [](Providers p) -> Task<void> {
    for (;;) co_await p.tasks().yield();
  };
  RunOutcome outcome = sim.run(main(sim.providers()));
  EXPECT_EQ(outcome.status, RunStatus::kLivelock);
  EXPECT_NE(outcome.message.find("seed 8"), std::string::npos) << outcome.message;
}

Task<void> sleeper(TimeProvider& time, int* finished) {
  co_await time.sleep(1h);
  ++*finished;
}

TEST(SimExecutorTest, DroppingAJoinHandleCancelsTheTask) {
  Simulation sim(SimOptions{.seed = 4});
  int finished = 0;
  auto main = [](Simulation* s, int* done) -> Task<void> {
    {
      JoinHandle<void> scoped =
          s->providers().tasks().spawn("scoped", sleeper(s->providers().time(), done));
      co_await s->providers().time().sleep(1s);
      EXPECT_EQ(s->executor().liveTasks(), 2u);
    }
    EXPECT_EQ(s->executor().liveTasks(), 1u) << "only main is left";
    EXPECT_EQ(s->executor().pendingTimers(), 0u);
  };
  ASSERT_TRUE(sim.run(main(&sim, &finished)).ok());
  EXPECT_EQ(finished, 0);
}

TEST(SimExecutorTest, NothingSurvivesTheEndOfARun) {
  Simulation sim(SimOptions{.seed = 4});
  int finished = 0;
  auto main = [](Providers p, int* done) -> Task<void> {
    for (int i = 0; i < 10; ++i) p.tasks().spawn("leftover", sleeper(p.time(), done)).detach();
    co_await p.time().sleep(1s);
  };
  ASSERT_TRUE(sim.run(main(sim.providers(), &finished)).ok());
  EXPECT_EQ(finished, 0);
  EXPECT_EQ(sim.executor().liveTasks(), 0u);
  EXPECT_EQ(sim.executor().pendingTimers(), 0u);
}

Task<void> selfCanceller(TaskGroup* group, int* after) {
  group->cancelAll();  // includes this very task: destroyed when this step ends
  ++*after;            // still runs: the frame is alive until the step returns
  co_return;
}

TEST(SimExecutorTest, ATaskMayCancelItsOwnGroup) {
  Simulation sim(SimOptions{.seed = 4});
  int after = 0;
  int finished = 0;
  auto main = [](Simulation* s, int* afterCancel, int* done) -> Task<void> {
    TaskGroup group(s->executor(), "process");
    group.spawn("peer", sleeper(s->providers().time(), done)).detach();
    auto self = group.spawn("self", selfCanceller(&group, afterCancel));
    co_await s->providers().time().sleep(1s);
    EXPECT_EQ(group.size(), 0u);
    EXPECT_TRUE(self.cancelled());
  };
  RunOutcome outcome = sim.run(main(&sim, &after, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(after, 1);
  EXPECT_EQ(finished, 0);
}

TEST(SimExecutorTest, DestroyingAGroupCancelsAllItsTasks) {
  Simulation sim(SimOptions{.seed = 6});
  int finished = 0;
  auto main = [](Simulation* s, int* done) -> Task<void> {
    std::vector<JoinHandle<void>> handles;
    {
      TaskGroup group(s->executor(), "process");
      for (int i = 0; i < 5; ++i) {
        handles.push_back(group.spawn("t", sleeper(s->providers().time(), done)));
      }
      co_await s->providers().time().sleep(1s);
      EXPECT_EQ(s->executor().pendingTimers(), 5u);
    }
    EXPECT_EQ(s->executor().pendingTimers(), 0u);
    for (auto& h : handles) EXPECT_TRUE(h.cancelled());
  };
  ASSERT_TRUE(sim.run(main(&sim, &finished)).ok());
  EXPECT_EQ(finished, 0);
}

Task<void> produce(Channel<int>* channel, TimeProvider& time, int count) {
  for (int i = 0; i < count; ++i) {
    co_await channel->send(i);
    co_await time.sleep(1ms);
  }
  channel->close();
}

Task<void> consume(Channel<int>* channel, std::vector<int>* got) {
  while (auto item = co_await channel->receive()) got->push_back(*item);
}

TEST(SimExecutorTest, ChannelDeliversInOrderWithBackpressureAndClose) {
  Simulation sim(SimOptions{.seed = 10});
  std::vector<int> got;
  auto main = [](Providers p, std::vector<int>* out) -> Task<void> {
    Channel<int> channel(2);
    auto consumer = p.tasks().spawn("consumer", consume(&channel, out));
    auto producer = p.tasks().spawn("producer", produce(&channel, p.time(), 100));
    co_await producer.join();
    co_await consumer.join();
    EXPECT_FALSE(channel.trySend(1)) << "closed";
    bool threw = false;
    try {
      co_await channel.send(5);
    } catch (const Exception& e) {
      threw = e.kind() == ErrorKind::kDisconnected;
    }
    EXPECT_TRUE(threw);
  };
  ASSERT_TRUE(sim.run(main(sim.providers(), &got)).ok());
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

TEST(SimExecutorTest, RunsCanFollowEachOtherAndTimeGoesOn) {
  Simulation sim(SimOptions{.seed = 12});
  auto main = [](TimeProvider& time) -> Task<void> { co_await time.sleep(5s); };
  ASSERT_TRUE(sim.run(main(sim.providers().time())).ok());
  RunOutcome second = sim.run(main(sim.providers().time()));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.endTime, TimePoint(10s));
}

}  // namespace
}  // namespace moonpool
