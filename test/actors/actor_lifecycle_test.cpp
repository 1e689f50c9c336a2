// Goal: actors have identity and a lifecycle (moonpool/actors/runtime.h): a string key and
// an integer key are distinct actors; the first call activates (factory, then onActivate)
// and an onActivate failure fails that call with kActivationFailed and discards the
// activation, so the next call starts afresh; an idle activation is deactivated
// (onDeactivate) by the sweep and the next call activates it again; the named limits
// (queuedCallsMax, activationsMax) and an unregistered type fail with their ActorFailure;
// a caller that gives up abandons its call, which still runs to completion.
// Method: the test actors of counter_actor.h on a seeded Simulation; the Journal records
// hook calls; simulated time makes idle timeouts exact.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "actor_testing.h"
#include "moonpool/combinators.h"

namespace actortest {
namespace {

using namespace std::chrono_literals;

Task<void> keysAreIdentities(ActorRuntime& runtime, Journal& journal) {
  co_await runtime.ref<Counter>("7").add(5);
  co_await runtime.ref<Counter>(7).add(1);
  EXPECT_EQ(co_await runtime.ref<Counter>("7").get(), 5);
  EXPECT_EQ(co_await runtime.ref<Counter>(std::int64_t{7}).get(), 1);
  // The same key of another type is another actor.
  EXPECT_EQ(co_await runtime.ref<Gossip>(7).relay({}, 0), 0);
  EXPECT_EQ(runtime.activationCount(), 3u);
  EXPECT_TRUE(runtime.isActive<Counter>(7));
  EXPECT_FALSE(runtime.isActive<Counter>(8));
  std::vector<std::string> expected = {"activate '7'", "add '7' 5", "activate #7", "add #7 1"};
  EXPECT_EQ(journal.lines, expected);
}

TEST(ActorLifecycleTest, StringAndIntegerKeysAreDistinctActors) {
  runScenario(1, keysAreIdentities);
}

Task<void> failedActivation(ActorRuntime& runtime, Journal& journal) {
  journal.failActivation = {"fragile"};
  ActorRef<Counter> fragile = runtime.ref<Counter>("fragile");
  std::string message;
  EXPECT_EQ(co_await failureOf(fragile.add(1), &message), ActorFailure::kActivationFailed);
  EXPECT_NE(message.find("activating actortest::Counter 'fragile' failed (the activation was "
                         "discarded): failed: the test refuses this key"),
            std::string::npos)
      << message;
  EXPECT_EQ(runtime.activationCount(), 0u) << "a failed activation is discarded";
  EXPECT_EQ(runtime.stats().activationFailures, 1u);
  // Calls queued behind a failing activation each try a fresh one.
  auto [a, b] = co_await moonpool::whenAll(failureOf(fragile.add(1)), failureOf(fragile.get()));
  EXPECT_EQ(a, ActorFailure::kActivationFailed);
  EXPECT_EQ(b, ActorFailure::kActivationFailed);
  // Once onActivate succeeds, the actor starts from its constructor's state.
  journal.failActivation.clear();
  EXPECT_EQ(co_await fragile.add(2), 2);
  EXPECT_EQ(runtime.stats().activations, 1u);
}

TEST(ActorLifecycleTest, AFailedActivationFailsTheCallAndIsDiscarded) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) runScenario(seed, failedActivation);
}

Task<void> idleDeactivation(ActorRuntime& runtime, Journal& journal) {
  moonpool::TimeProvider& time = runtime.providers().time();
  ActorRef<Counter> counter = runtime.ref<Counter>("sleepy");
  co_await counter.add(4);
  co_await time.sleep(500ms);  // idle, but not for idleTimeout yet
  EXPECT_TRUE(runtime.isActive<Counter>("sleepy"));
  EXPECT_EQ(co_await counter.add(1), 5) << "a call resets the idle time";
  co_await time.sleep(1500ms);
  EXPECT_TRUE(runtime.isActive<Counter>("sleepy"));
  co_await time.sleep(1000ms);  // a sweep (every 500 ms) after 2 s idle
  EXPECT_FALSE(runtime.isActive<Counter>("sleepy"));
  EXPECT_EQ(runtime.stats().deactivations, 1u);
  EXPECT_EQ(journal.lines.back(), "deactivate 'sleepy'");
  // In-memory state goes with the activation; the next call activates anew.
  EXPECT_EQ(co_await counter.get(), 0);
  EXPECT_EQ(runtime.stats().activations, 2u);
  // deactivateAll (a clean shutdown) runs onDeactivate for every idle-or-not activation.
  co_await runtime.ref<Counter>("other").get();
  EXPECT_EQ(co_await runtime.deactivateAll(), 2u);
  EXPECT_EQ(runtime.activationCount(), 0u);
}

TEST(ActorLifecycleTest, IdleActivationsAreDeactivatedAndComeBack) {
  ActorOptions options{.idleTimeout = 2s, .collectInterval = 500ms};
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    runScenario(seed, idleDeactivation, options);
  }
}

Task<void> queueLimit(ActorRuntime& runtime, Journal&) {
  ActorRef<Counter> counter = runtime.ref<Counter>("busy");
  co_await counter.get();
  // One runs, two queue (queuedCallsMax = 2), the fourth is refused at once.
  auto [a, b, c, d] =
      co_await moonpool::whenAll(failureOf(counter.add(1)), failureOf(counter.add(1)),
                                 failureOf(counter.add(1)), failureOf(counter.add(1)));
  int refused = (a == ActorFailure::kQueueFull) + (b == ActorFailure::kQueueFull) +
                (c == ActorFailure::kQueueFull) + (d == ActorFailure::kQueueFull);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(co_await counter.get(), 3);
  EXPECT_EQ(runtime.stats().queueFullRefused, 1u);
  // activationsMax = 2: a third live activation is refused.
  co_await runtime.ref<Counter>("second").get();
  EXPECT_EQ(co_await failureOf(runtime.ref<Counter>("third").get()),
            ActorFailure::kTooManyActivations);
}

TEST(ActorLifecycleTest, NamedLimitsAreEnforced) {
  ActorOptions options{.activationsMax = 2, .queuedCallsMax = 2};
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) runScenario(seed, queueLimit, options);
}

// A caller that gives up (its Task destroyed while its call waits for the turn) abandons
// the call, which still runs to completion: an actor is never cut mid-turn.
Task<void> abandonedWhileQueued(ActorRuntime& runtime, Journal& journal) {
  moonpool::TimeProvider& time = runtime.providers().time();
  ActorRef<Counter> counter = runtime.ref<Counter>("impatient");
  co_await counter.get();
  // The first add to take the turn holds it 10 ms; the impatient caller gives up after 5.
  auto [first, second] = co_await moonpool::whenAll(
      counter.add(1), moonpool::tryWithin(time, 5ms, counter.add(100)));
  EXPECT_TRUE(first == 1 || first == 101) << first;
  EXPECT_FALSE(second.has_value());
  co_await time.sleep(50ms);
  EXPECT_EQ(co_await counter.add(1), 102) << "the abandoned call ran all the same";
  EXPECT_EQ(runtime.stats().abandonedTurns, 1u);
  EXPECT_EQ(runtime.stats().abandonedFailures, 0u);
  EXPECT_EQ(journal.lines.back(), "add 'impatient' 1");
}

TEST(ActorLifecycleTest, ACallerThatGivesUpAbandonsItsCallWhichRunsToCompletion) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) runScenario(seed, abandonedWhileQueued);
}

Task<void> unknownType(Providers providers) {
  ActorRuntime empty(providers);
  std::string message;
  EXPECT_EQ(co_await failureOf(empty.ref<Counter>("x").get(), &message),
            ActorFailure::kUnknownType);
  EXPECT_NE(message.find("no factory for actor type actortest::Counter"), std::string::npos)
      << message;
}

TEST(ActorLifecycleTest, AnUnregisteredTypeFailsClearly) {
  Simulation sim(SimOptions{.seed = 1});
  RunOutcome outcome = sim.run(unknownType(sim.providers()));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

}  // namespace
}  // namespace actortest
