// Goal: the coroutine <-> kj::Promise bridge works both ways, in simulation and production,
// converts errors 1:1 by kind, and cancels across the boundary in both directions:
// destroying the awaiting Task drops the kj::Promise (KJ cancels the operation), and
// dropping the kj::Promise returned by toPromise destroys the Task.
// Method: KJ promises with side-effecting continuations and RAII probes in Task frames.
#include <gtest/gtest.h>

#include <kj/async.h>
#include <kj/debug.h>

#include <optional>

#include "moonpool/kj/bridge.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/sim/simulation.h"
#include "support/destroy_counter.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

using test_support::DestroyCounter;

TEST(BridgeTest, ErrorKindsMapOneToOne) {
  for (auto kind : {ErrorKind::kFailed, ErrorKind::kOverloaded, ErrorKind::kDisconnected,
                    ErrorKind::kUnimplemented}) {
    EXPECT_EQ(fromKjType(toKjType(kind)), kind);
  }
  kj::Exception kjError(kj::Exception::Type::DISCONNECTED, "file.c++", 12, kj::str("peer gone"));
  Exception converted = fromKj(kjError);
  EXPECT_EQ(converted.kind(), ErrorKind::kDisconnected);
  EXPECT_NE(converted.description().find("peer gone"), std::string::npos);
  EXPECT_NE(converted.description().find("file.c++:12"), std::string::npos);
  kj::Exception back = toKj(std::make_exception_ptr(converted));
  EXPECT_EQ(back.getType(), kj::Exception::Type::DISCONNECTED);
  kj::Exception fromStd = toKj(std::make_exception_ptr(std::runtime_error("std")));
  EXPECT_EQ(fromStd.getType(), kj::Exception::Type::FAILED);
}

Task<void> awaitRejected(std::string* caught) {
  try {
    co_await awaitPromise(kj::Promise<int>(
        KJ_EXCEPTION(OVERLOADED, "too busy")));
  } catch (const Exception& e) {
    *caught = std::string(errorKindName(e.kind())) + ":" + e.description();
  }
}

TEST(BridgeTest, RejectedPromiseThrowsMappedException) {
  Simulation sim(SimOptions{.seed = 1});
  SimKjLoop loop(sim.executor());
  std::string caught;
  ASSERT_TRUE(sim.run(awaitRejected(&caught)).ok());
  EXPECT_EQ(caught.rfind("overloaded:too busy", 0), 0u) << caught;
}

// Fails when destroyed (KJ destructors may throw): dropping a settled promise can fail.
struct FailsWhenDropped {
  FailsWhenDropped() = default;
  FailsWhenDropped(FailsWhenDropped&& other) noexcept : armed(std::exchange(other.armed, false)) {}
  FailsWhenDropped& operator=(FailsWhenDropped&&) = delete;
  ~FailsWhenDropped() noexcept(false) {
    if (armed) kj::throwFatalException(KJ_EXCEPTION(FAILED, "failed while dropped"));
  }
  bool armed = true;
};

// The awaiting task drops the settled promise when it resumes; a failure doing so reaches it.
TEST(BridgeTest, AFailureDroppingASettledPromiseReachesTheAwaiter) {
  Simulation sim(SimOptions{.seed = 8});
  SimKjLoop loop(sim.executor());
  auto main = []() -> Task<void> {
    std::string caught;
    try {
      co_await awaitPromise(kj::Promise<int>(5).attach(FailsWhenDropped{}));
    } catch (const Exception& e) {
      caught = e.description();
    }
    EXPECT_NE(caught.find("failed while dropped"), std::string::npos) << caught;
  };
  RunOutcome outcome = sim.run(main());
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

Task<void> awaitKjTimer(kj::Timer* timer, bool* continued, int* destroyed) {
  DestroyCounter probe(destroyed);
  co_await awaitPromise(timer->afterDelay(1 * kj::SECONDS).then([continued]() {
    *continued = true;
  }));
}

TEST(BridgeTest, DestroyingTheTaskCancelsTheKjPromise) {
  Simulation sim(SimOptions{.seed = 1});
  SimKjLoop loop(sim.executor());
  bool continued = false;
  int destroyed = 0;
  auto main = [](Simulation* s, kj::Timer* timer, bool* cont, int* destr) -> Task<void> {
    auto h = s->providers().tasks().spawn("kj-waiter", awaitKjTimer(timer, cont, destr));
    co_await s->providers().time().sleep(100ms);
    h.cancel();
    EXPECT_EQ(*destr, 1);
    EXPECT_FALSE(s->executor().now() >= TimePoint(1s));
  };
  RunOutcome outcome = sim.run(main(&sim, &loop.timer(), &continued, &destroyed));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(continued) << "the KJ continuation was cancelled with the promise";
  EXPECT_FALSE(loop.nextTimer().has_value()) << "KJ's timer was cancelled";
  EXPECT_EQ(outcome.endTime, TimePoint(100ms));
}

Task<int> slowValue(TimeProvider& time, int* destroyed, bool* finished) {
  DestroyCounter probe(destroyed);
  co_await time.sleep(10s);
  *finished = true;
  co_return 7;
}

TEST(BridgeTest, ToPromiseDeliversAndDroppingThePromiseCancelsTheTask) {
  Simulation sim(SimOptions{.seed = 2});
  SimKjLoop loop(sim.executor());
  int destroyed = 0;
  bool finished = false;
  auto main = [](Simulation* s, int* destr, bool* fin) -> Task<void> {
    TimeProvider& time = s->providers().time();
    // Delivered: a Task's value crosses into KJ and back.
    int value = co_await awaitPromise(toPromise(slowValue(time, destr, fin)));
    EXPECT_EQ(value, 7);
    EXPECT_EQ(*destr, 1);
    *fin = false;
    // Dropped: the promise goes away while the Task sleeps.
    {
      kj::Promise<int> dropped = toPromise(slowValue(time, destr, fin), "doomed");
      co_await time.sleep(1s);
      EXPECT_EQ(*destr, 1) << "the task is alive while its promise is";
      EXPECT_EQ(s->executor().liveTasks(), 1u) << "main only: the promise owns the task";
    }
    EXPECT_EQ(*destr, 2) << "dropping the promise destroyed the task's frame";
    EXPECT_EQ(s->executor().liveTasks(), 1u);
    co_await time.sleep(20s);
    EXPECT_FALSE(*fin);
  };
  RunOutcome outcome = sim.run(main(&sim, &destroyed, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

Task<int> throwingTask() {
  throw Exception(ErrorKind::kUnimplemented, "not here");
  co_return 0;
}

TEST(BridgeTest, ToPromiseCarriesTaskErrorsIntoKj) {
  Simulation sim(SimOptions{.seed = 2});
  SimKjLoop loop(sim.executor());
  auto main = []() -> Task<void> {
    kj::Promise<int> p = toPromise(throwingTask())
                             .catch_([](kj::Exception&& e) -> int {
                               return e.getType() == kj::Exception::Type::UNIMPLEMENTED ? -1 : -2;
                             });
    EXPECT_EQ(co_await awaitPromise(kj::mv(p)), -1);
  };
  RunOutcome outcome = sim.run(main());
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

// With an owner the task is a member of it, not a spawned task: the group counts it while it
// runs (no task id, no registry entry), and cancelling the group destroys the frame and
// rejects the promise as a broken request that names the call.
TEST(BridgeTest, ToPromiseWithAnOwnerJoinsItAndBreaksWhenCancelled) {
  Simulation sim(SimOptions{.seed = 3});
  SimKjLoop loop(sim.executor());
  int destroyed = 0;
  bool finished = false;
  auto main = [](Simulation* s, int* destr, bool* fin) -> Task<void> {
    TaskGroup owner(s->executor(), "server");
    kj::Promise<int> p = toPromise(slowValue(s->providers().time(), destr, fin), "owned",
                                   &owner);
    co_await s->providers().time().sleep(1s);
    EXPECT_EQ(owner.size(), 1u);
    EXPECT_EQ(s->executor().liveTasks(), 1u) << "main only: the call spawned nothing";
    EXPECT_NE(owner.describe().find("'owned' (a call) awaiting a sleep"), std::string::npos)
        << owner.describe();
    owner.cancelAll();
    EXPECT_EQ(*destr, 1);
    EXPECT_EQ(owner.size(), 0u);
    std::string broken;
    try {
      co_await awaitPromise(kj::mv(p));
    } catch (const Exception& e) {
      if (isBrokenRequest(e)) broken = e.description();
    }
    EXPECT_NE(broken.find("'owned'"), std::string::npos)
        << "the owner's cancellation reaches the promise: " << broken;
  };
  RunOutcome outcome = sim.run(main(&sim, &destroyed, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(finished);
}

Task<int> quickValue(TimeProvider& time) {
  co_await time.sleep(1ms);
  co_return 4;
}

// What toPromiseThen calls to make its Task.
struct MakeQuickValue {
  TimeProvider& time;
  [[clang::coro_wrapper]] Task<int> operator()() const { return quickValue(time); }
};
struct MakeThrowing {
  [[clang::coro_wrapper]] Task<int> operator()() const { return throwingTask(); }
};

Task<int> reportsItsGroup(TimeProvider& time, TaskGroup** seen) {
  co_await time.sleep(1s);
  *seen = currentTaskGroup();
  co_return 3;
}

// With an owner: the value and errors cross as without one, the call sees the owner as its
// group, it leaves the group when it settles and its promise goes, and dropping the promise
// destroys the frame at once.
TEST(BridgeTest, ToPromiseWithAnOwnerDeliversFailsAndCancels) {
  Simulation sim(SimOptions{.seed = 5});
  SimKjLoop loop(sim.executor());
  int destroyed = 0;
  bool finished = false;
  auto main = [](Simulation* s, int* destr, bool* fin) -> Task<void> {
    TimeProvider& time = s->providers().time();
    TaskGroup owner(s->executor(), "server");
    TaskGroup* seen = nullptr;
    EXPECT_EQ(co_await awaitPromise(toPromise(reportsItsGroup(time, &seen), "g", &owner)), 3);
    EXPECT_EQ(seen, &owner);
    EXPECT_EQ(owner.size(), 0u) << "a settled call whose promise is gone leaves the group";
    kj::Promise<int> failing =
        toPromise(throwingTask(), "f", &owner).catch_([](kj::Exception&& e) -> int {
          return e.getType() == kj::Exception::Type::UNIMPLEMENTED ? -1 : -2;
        });
    EXPECT_EQ(co_await awaitPromise(kj::mv(failing)), -1);
    {
      kj::Promise<int> dropped = toPromise(slowValue(time, destr, fin), "d", &owner);
      co_await time.sleep(1s);
      EXPECT_EQ(owner.size(), 1u);
    }
    EXPECT_EQ(*destr, 1) << "dropping the promise destroyed the frame";
    EXPECT_EQ(owner.size(), 0u);
    int written = 0;
    co_await awaitPromise(toPromiseThen(MakeQuickValue{time},
                                        [&written](int v) { written = v; }, "then", &owner));
    EXPECT_EQ(written, 4) << "toPromiseThen writes the value in the task's last step";
    bool refused = false;
    co_await awaitPromise(
        toPromiseThen(MakeThrowing{}, [](int) {}, "then-fails", &owner)
            .catch_([&refused](kj::Exception&& e) {
              refused = e.getType() == kj::Exception::Type::UNIMPLEMENTED;
            }));
    EXPECT_TRUE(refused) << "toPromiseThen carries the task's error with its kind";
  };
  RunOutcome outcome = sim.run(main(&sim, &destroyed, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(finished);
}

// Pausing the owner (a paused process) holds the call's steps back; resuming lets it finish.
TEST(BridgeTest, PausingTheOwnerHoldsItsCallsBack) {
  Simulation sim(SimOptions{.seed = 6});
  SimKjLoop loop(sim.executor());
  auto main = [](Simulation* s) -> Task<void> {
    TimeProvider& time = s->providers().time();
    TaskGroup owner(s->executor(), "server");
    kj::Promise<int> p = toPromise(quickValue(time), "paused", &owner);
    s->executor().pauseGroup(owner);
    co_await time.sleep(1s);
    EXPECT_EQ(owner.size(), 1u) << "held back: the call has not run";
    s->executor().resumeGroup(owner);
    EXPECT_EQ(co_await awaitPromise(kj::mv(p)), 4);
    EXPECT_GE(s->executor().now(), TimePoint(1s + 1ms));
  };
  RunOutcome outcome = sim.run(main(&sim));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

// A call that cancels its own owner (a handler killing its own process): the frame is
// running, so it goes when that step returns; the promise is broken at once.
Task<int> cancelsItsOwner(TimeProvider& time, TaskGroup* owner, bool* ranOn, bool* finished) {
  co_await time.sleep(1s);
  owner->cancelAll();
  *ranOn = true;  // still this step
  co_await time.sleep(1s);
  *finished = true;
  co_return 1;
}

TEST(BridgeTest, ACallCancellingItsOwnOwnerEndsAfterItsStep) {
  Simulation sim(SimOptions{.seed = 7});
  SimKjLoop loop(sim.executor());
  bool ranOn = false;
  bool finished = false;
  auto main = [](Simulation* s, bool* ran, bool* fin) -> Task<void> {
    TaskGroup owner(s->executor(), "server");
    kj::Promise<int> p =
        toPromise(cancelsItsOwner(s->providers().time(), &owner, ran, fin), "self", &owner);
    bool broken = false;
    try {
      co_await awaitPromise(kj::mv(p));
    } catch (const Exception& e) {
      broken = isBrokenRequest(e);
    }
    EXPECT_TRUE(broken);
    EXPECT_TRUE(*ran);
    co_await s->providers().time().sleep(3s);
  };
  RunOutcome outcome = sim.run(main(&sim, &ranOn, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(finished);
}

// A task that drops its own promise (as a server method closing its own connection would):
// its frame cannot go while it runs, so it goes when that step returns, and settles nothing.
Task<void> dropsItsOwnPromise(TimeProvider& time, std::optional<kj::Promise<void>>* self,
                              int* destroyed, bool* ranOn, bool* finished) {
  DestroyCounter probe(destroyed);
  co_await time.sleep(1s);
  self->reset();
  *ranOn = true;  // still this step: the frame waits for its end
  co_await time.sleep(1s);
  *finished = true;
}

TEST(BridgeTest, ATaskDroppingItsOwnPromiseIsDestroyedAfterItsStep) {
  Simulation sim(SimOptions{.seed = 4});
  SimKjLoop loop(sim.executor());
  int destroyed = 0;
  bool ranOn = false;
  bool finished = false;
  auto main = [](Simulation* s, int* destr, bool* ran, bool* fin) -> Task<void> {
    std::optional<kj::Promise<void>> self;
    self.emplace(toPromise(dropsItsOwnPromise(s->providers().time(), &self, destr, ran, fin)));
    co_await s->providers().time().sleep(1500ms);
    EXPECT_FALSE(self.has_value());
    EXPECT_TRUE(*ran);
    EXPECT_EQ(*destr, 1) << "destroyed when the dropping step returned";
    co_await s->providers().time().sleep(2s);
  };
  RunOutcome outcome = sim.run(main(&sim, &destroyed, &ranOn, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(finished);
}

// In production: a failure crosses with its kind, and dropping the promise in a KJ turn (as
// capnp does for a cancelled call) destroys the task at once.
TEST(BridgeTest, ToPromiseFailsAndCancelsOnTheProductionExecutor) {
  RealRuntime runtime;
  int destroyed = 0;
  bool finished = false;
  auto main = [](RealExecutor* exec, Providers p, int* destr, bool* fin) -> Task<void> {
    kj::Promise<int> failing = toPromise(throwingTask()).catch_([](kj::Exception&& e) {
      return e.getType() == kj::Exception::Type::UNIMPLEMENTED ? -1 : -2;
    });
    EXPECT_EQ(co_await awaitPromise(kj::mv(failing)), -1);
    auto slow = kj::heap<kj::Promise<int>>(toPromise(slowValue(p.time(), destr, fin)));
    kj::Promise<void> dropper = exec->timer().afterDelay(5 * kj::MILLISECONDS).then(
        [slow = kj::mv(slow)]() mutable { slow = nullptr; });
    co_await awaitPromise(kj::mv(dropper));
    EXPECT_EQ(*destr, 1) << "dropped in a KJ turn: destroyed there";
  };
  RunOutcome outcome =
      runtime.run(main(&runtime.executor(), runtime.providers(), &destroyed, &finished));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_FALSE(finished);
}

TEST(BridgeTest, WorksOnTheProductionExecutor) {
  RealRuntime runtime;
  auto main = [](RealExecutor* exec, Providers p) -> Task<void> {
    int value = co_await awaitPromise(
        exec->timer().afterDelay(5 * kj::MILLISECONDS).then([]() { return 5; }));
    EXPECT_EQ(value, 5);
    int back = co_await awaitPromise(toPromise(
        [](TimeProvider& time) -> Task<int> {
          co_await time.sleep(1ms);
          co_return 9;
        }(p.time())));
    EXPECT_EQ(back, 9);
  };
  RunOutcome outcome = runtime.run(main(&runtime.executor(), runtime.providers()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

}  // namespace
}  // namespace moonpool
