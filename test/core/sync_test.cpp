// Goal: Mutex and Semaphore (sync.h) exclude across co_await, serve waiters in arrival order,
// never let a newcomer barge past a waiter, and survive cancellation at every point (a
// waiter destroyed while queued, or after it was handed a permit but before it ran) without
// losing a permit or a wake-up. The counter case is the classic lost update: three tasks
// each read, sleep, write.
// Method: scenarios on a Simulation (seeded scheduling); cancellation through whenAny and
// JoinHandle drop; counts of held/available/waiting permits checked after each step.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sync.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

Task<void> addOne(TimeProvider& time, Mutex* lock, int* counter) {
  Mutex::Guard guard = co_await lock->lock();
  const int read = *counter;
  co_await time.sleep(10ms);  // another task would interleave here without the lock
  *counter = read + 1;
}

TEST(SyncTest, AMutexKeepsReadSleepWriteAtomic) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Simulation sim(SimOptions{.seed = seed});
    auto main = [](TimeProvider& time, TaskProvider& tasks) -> Task<void> {
      Mutex lock;
      int counter = 0;
      auto a = tasks.spawn("a", addOne(time, &lock, &counter));
      auto b = tasks.spawn("b", addOne(time, &lock, &counter));
      auto c = tasks.spawn("c", addOne(time, &lock, &counter));
      co_await a.join();
      co_await b.join();
      co_await c.join();
      EXPECT_EQ(counter, 3);
      EXPECT_EQ(time.now(), TimePoint(30ms)) << "the three critical sections ran in turn";
      EXPECT_FALSE(lock.locked());
    };
    RunOutcome outcome = sim.run(main(sim.providers().time(), sim.providers().tasks()));
    ASSERT_TRUE(outcome.ok()) << "seed " << seed << ": " << outcome.message;
  }
}

Task<void> takeInTurn(TimeProvider& time, Semaphore* slots, Duration arriveAt, int id,
                      std::vector<int>* order) {
  co_await time.sleep(arriveAt);
  Semaphore::Permit permit = co_await slots->acquire();
  order->push_back(id);
  co_await time.sleep(5ms);
}

TEST(SyncTest, WaitersAreServedInArrivalOrder) {
  Simulation sim(SimOptions{.seed = 7});
  auto main = [](TimeProvider& time, TaskProvider& tasks) -> Task<void> {
    Semaphore slots(2);
    std::vector<int> order;
    std::vector<JoinHandle<void>> handles;
    // Arrivals 1 ms apart, spawned in reverse so spawn order is not arrival order.
    for (int id = 6; id >= 1; --id) {
      handles.push_back(tasks.spawn("t" + std::to_string(id),
                                    takeInTurn(time, &slots, Duration(id * 1ms), id, &order)));
    }
    for (auto& h : handles) co_await h.join();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(slots.available(), 2u);
    EXPECT_EQ(slots.held(), 0u);
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time(), sim.providers().tasks())).ok());
}

TEST(SyncTest, TryAcquireNeverBargesPastAWaiter) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time, TaskProvider& tasks) -> Task<void> {
    Mutex lock;
    std::optional<Mutex::Guard> first = lock.tryLock();
    EXPECT_TRUE(first.has_value());
    EXPECT_FALSE(lock.tryLock().has_value()) << "held";
    bool waiterRan = false;
    auto waiter = [](Mutex* m, bool* ran) -> Task<void> {
      Mutex::Guard g = co_await m->lock();
      *ran = true;
    };
    auto handle = tasks.spawn("waiter", waiter(&lock, &waiterRan));
    co_await time.sleep(1ms);
    EXPECT_EQ(lock.waiting(), 1u);
    first->release();
    // Released, but the permit went to the waiter, which has not run yet.
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(lock.tryLock().has_value()) << "a newcomer took the waiter's turn";
    co_await handle.join();
    EXPECT_TRUE(waiterRan);
    EXPECT_FALSE(lock.locked());
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time(), sim.providers().tasks())).ok());
}

TEST(SyncTest, AQueuedWaiterThatIsCancelledLeavesTheQueue) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time) -> Task<void> {
    Mutex lock;
    Mutex::Guard held = co_await lock.lock();
    auto wantLock = [](Mutex* m) -> Task<void> { Mutex::Guard g = co_await m->lock(); };
    // Gives up waiting after 5 ms: its awaiter is destroyed while queued.
    const bool got = co_await tryWithin(time, 5ms, wantLock(&lock));
    EXPECT_FALSE(got);
    EXPECT_EQ(lock.waiting(), 0u);
    held.release();
    EXPECT_FALSE(lock.locked()) << "the permit went to a waiter that is gone";
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time())).ok());
}

TEST(SyncTest, APermitHandedToACancelledWaiterPassesOn) {
  Simulation sim(SimOptions{.seed = 1});
  auto main = [](TimeProvider& time, TaskProvider& tasks) -> Task<void> {
    Mutex lock;
    std::optional<Mutex::Guard> held = lock.tryLock();
    bool secondRan = false;
    auto waiter = [](Mutex* m, bool* ran) -> Task<void> {
      Mutex::Guard g = co_await m->lock();
      if (ran != nullptr) *ran = true;
    };
    auto first = tasks.spawn("first", waiter(&lock, nullptr));
    auto second = tasks.spawn("second", waiter(&lock, &secondRan));
    co_await time.sleep(1ms);
    EXPECT_EQ(lock.waiting(), 2u);
    held->release();          // handed to "first", which is scheduled but has not run
    { auto dropped = std::move(first); }  // cancel it before it runs
    co_await second.join();
    EXPECT_TRUE(secondRan) << "the permit was lost with the cancelled waiter";
    EXPECT_FALSE(lock.locked());
    EXPECT_EQ(lock.waiting(), 0u);
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time(), sim.providers().tasks())).ok());
}

TEST(SyncTest, ASemaphoreBoundsConcurrency) {
  Simulation sim(SimOptions{.seed = 3});
  auto main = [](TimeProvider& time, TaskProvider& tasks) -> Task<void> {
    Semaphore slots(3);
    int inside = 0;
    int insideMax = 0;
    auto worker = [](TimeProvider& t, Semaphore* s, int* in, int* inMax) -> Task<void> {
      Semaphore::Permit permit = co_await s->acquire();
      *inMax = std::max(*inMax, ++*in);
      co_await t.sleep(3ms);
      --*in;
    };
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < 10; ++i) {
      handles.push_back(tasks.spawn("w", worker(time, &slots, &inside, &insideMax)));
    }
    for (auto& h : handles) co_await h.join();
    EXPECT_EQ(insideMax, 3);
    EXPECT_EQ(time.now(), TimePoint(12ms)) << "ten 3 ms holds, three at a time";
  };
  ASSERT_TRUE(sim.run(main(sim.providers().time(), sim.providers().tasks())).ok());
}

TEST(SyncDeathTest, DestroyingASemaphoreWhileAPermitIsHeldIsACheckFailure) {
  EXPECT_DEATH(
      {
        std::optional<Semaphore::Permit> permit;
        {
          Semaphore slots(1);
          permit = slots.tryAcquire();
        }
      },
      "a Semaphore destroyed while permits are held");
}

}  // namespace
}  // namespace moonpool
