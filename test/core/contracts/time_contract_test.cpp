// Goal: the TimeProvider contract (providers.h) holds for the simulated and the real
// provider alike: now() never goes back, sleep(d) lasts at least d, sleep(0) and negative
// sleeps complete (asynchronously), sleepUntil reaches its deadline, and tryWithin/within
// tell a timeout from a result.
// Method: each case is one coroutine written against TimeProvider only, run by both
// harnesses (harness.h). Durations are a few milliseconds; upper bounds on real elapsed time
// are loose (seconds) so a loaded CI machine cannot make them flaky.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "harness.h"
#include "moonpool/error.h"
#include "moonpool/providers.h"

namespace moonpool::conformance {
namespace {

using namespace std::chrono_literals;

// Real elapsed time for a wait of a few ms should stay far below this on any machine.
constexpr Duration kLooseUpperBound = 5s;

class TimeContract : public ContractTest {};

Task<void> nowIsMonotonic(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  TimePoint previous = time.now();
  for (int i = 0; i < 50; ++i) {
    if (i % 10 == 0) {
      co_await time.sleep(1ms);
    } else {
      co_await env.providers.tasks().yield();
    }
    const TimePoint current = time.now();
    EXPECT_GE(current, previous) << "now() went back at step " << i;
    previous = current;
  }
}

TEST_P(TimeContract, NowIsMonotonic) { runContract(nowIsMonotonic); }

Task<void> sleepLastsAtLeastItsDuration(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  for (Duration delay : {Duration(1ms), Duration(5ms), Duration(20ms)}) {
    const TimePoint start = time.now();
    co_await time.sleep(delay);
    const Duration slept = time.now() - start;
    EXPECT_GE(slept, delay) << "sleep(" << formatDuration(delay) << ") ended early";
    EXPECT_LT(slept, delay + kLooseUpperBound);
  }
}

TEST_P(TimeContract, SleepLastsAtLeastItsDuration) { runContract(sleepLastsAtLeastItsDuration); }

Task<void> setFlag(bool* flag) {
  *flag = true;
  co_return;
}

Task<void> zeroAndNegativeSleepsComplete(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  const TimePoint start = time.now();
  co_await time.sleep(0ms);
  co_await time.sleep(-5ms);
  EXPECT_LT(time.now() - start, kLooseUpperBound);
  // "Asynchronously": sleeping 0 suspends, so another ready task gets to run. The scheduler
  // may pick the sleeper again first (a seeded choice in simulation), hence the loop.
  bool ran = false;
  JoinHandle<void> other = env.providers.tasks().spawn("other", setFlag(&ran));
  for (int i = 0; i < 1000 && !ran; ++i) co_await time.sleep(0ms);
  EXPECT_TRUE(ran) << "sleep(0) never let a ready task run";
  co_await other.join();
}

TEST_P(TimeContract, ZeroAndNegativeSleepsComplete) { runContract(zeroAndNegativeSleepsComplete); }

Task<void> sleepUntilReachesTheDeadline(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  const TimePoint deadline = time.now() + 10ms;
  co_await time.sleepUntil(deadline);
  EXPECT_GE(time.now(), deadline);
  // A deadline in the past completes at once.
  const TimePoint before = time.now();
  co_await time.sleepUntil(before - 1s);
  EXPECT_LT(time.now() - before, kLooseUpperBound);
}

TEST_P(TimeContract, SleepUntilReachesTheDeadline) { runContract(sleepUntilReachesTheDeadline); }

Task<int> valueAfter(TimeProvider& time, Duration delay, int value) {
  co_await time.sleep(delay);
  co_return value;
}

Task<void> tryWithinTellsTimeoutFromResult(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  const TimePoint start = time.now();
  const bool slowInTime = co_await tryWithin(time, 10ms, time.sleep(60s));
  EXPECT_FALSE(slowInTime);
  const Duration waited = time.now() - start;
  EXPECT_GE(waited, 10ms) << "the timeout fired early";
  EXPECT_LT(waited, kLooseUpperBound) << "waited for the slow side";

  const bool fastInTime = co_await tryWithin(time, 10s, time.sleep(1ms));
  EXPECT_TRUE(fastInTime);

  std::optional<int> value = co_await tryWithin(time, 10s, valueAfter(time, 1ms, 7));
  EXPECT_EQ(value, std::optional<int>(7));
  std::optional<int> missed = co_await tryWithin(time, 1ms, valueAfter(time, 60s, 7));
  EXPECT_FALSE(missed.has_value());
}

TEST_P(TimeContract, TryWithinTellsTimeoutFromResult) {
  runContract(tryWithinTellsTimeoutFromResult);
}

Task<void> withinThrowsOverloadedOnTimeout(ContractEnv& env) {
  TimeProvider& time = env.providers.time();
  std::optional<ErrorKind> kind;
  std::string description;
  try {
    co_await within(time, 5ms, time.sleep(60s), "slow step");
  } catch (const Exception& error) {
    kind = error.kind();
    description = error.description();
  }
  EXPECT_EQ(kind, std::optional<ErrorKind>(ErrorKind::kOverloaded));
  EXPECT_NE(description.find("slow step timed out"), std::string::npos) << description;
  const int value = co_await within(time, 10s, valueAfter(time, 1ms, 11), "fast step");
  EXPECT_EQ(value, 11);
}

TEST_P(TimeContract, WithinThrowsOverloadedOnTimeout) {
  runContract(withinThrowsOverloadedOnTimeout);
}

INSTANTIATE_TEST_SUITE_P(Providers, TimeContract, testing::ValuesIn(allHarnesses()),
                         harnessName);

}  // namespace
}  // namespace moonpool::conformance
