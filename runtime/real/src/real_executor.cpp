// The production executor on KJ's event loop (see real/real_executor.h).
#include "moonpool/real/real_executor.h"

#include <sys/random.h>

#include <kj/async-io.h>
#include <kj/time.h>
#include <kj/timer.h>

#include "moonpool/kj/bridge.h"

namespace moonpool {

// Ready tasks run in batches of at most this many steps before KJ gets to poll its events,
// so a busy set of tasks cannot starve I/O and timers.
inline constexpr std::size_t kStepsPerPollMax = 256;

// Time is read from the monotonic clock each time it is asked for. KJ's timer is the same
// clock, but it only advances once per loop turn: after blocking work (a slow fsync) it lags,
// and a deadline computed from it would be short by the time spent blocked.
namespace {
const kj::MonotonicClock& freshClock() { return kj::systemPreciseMonotonicClock(); }
}  // namespace

struct RealExecutor::Impl {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::TimePoint start = freshClock().now();
  kj::Own<kj::PromiseFulfiller<void>> wakeup;
};

RealExecutor::RealExecutor() : impl_(std::make_unique<Impl>()) {
  previous_ = swapCurrent(this);
  root_ = std::make_unique<TaskGroup>(*this, "root");
}

RealExecutor::~RealExecutor() {
  root_.reset();
  registry_.finishStep();
  MOONPOOL_CHECK_EQ(registry_.size(), std::size_t{0}, "tasks outlive the executor");
  Executor* mine = swapCurrent(previous_);
  MOONPOOL_CHECK(mine == this, "executors must be destroyed in reverse order of creation");
}

kj::Timer& RealExecutor::timer() { return impl_->io.provider->getTimer(); }
kj::AsyncIoProvider& RealExecutor::io() { return *impl_->io.provider; }
kj::LowLevelAsyncIoProvider& RealExecutor::lowLevelIo() { return *impl_->io.lowLevelProvider; }

TimePoint RealExecutor::now() const {
  const kj::Duration elapsed = freshClock().now() - impl_->start;
  return TimePoint(Duration(elapsed / kj::NANOSECONDS));
}

std::size_t RealExecutor::chooseIndex(std::size_t count) {
  MOONPOOL_CHECK_GT(count, std::size_t{0});
  return 0;
}

void RealExecutor::schedule(Runnable& work) {
  MOONPOOL_CHECK(!work.scheduled(), "scheduling a Runnable that is already ready");
  work.readySlot = 0;  // any value but kNotScheduled marks it ready; the list is intrusive
  work.readyPrev = tail_;
  work.readyNext = nullptr;
  (tail_ != nullptr ? tail_->readyNext : head_) = &work;
  tail_ = &work;
  ++readyCount_;
  if (impl_->wakeup) {
    impl_->wakeup->fulfill();
    impl_->wakeup = nullptr;
  }
}

void RealExecutor::unschedule(Runnable& work) {
  MOONPOOL_CHECK(work.scheduled(), "unscheduling a Runnable that is not ready");
  (work.readyPrev != nullptr ? work.readyPrev->readyNext : head_) = work.readyNext;
  (work.readyNext != nullptr ? work.readyNext->readyPrev : tail_) = work.readyPrev;
  work.readyPrev = work.readyNext = nullptr;
  work.readySlot = Runnable::kNotScheduled;
  --readyCount_;
}


void RealExecutor::runReadyBatch() {
  for (std::size_t i = 0; i < kStepsPerPollMax && head_ != nullptr; ++i) {
    Runnable& work = *head_;
    unschedule(work);
    ++steps_;
    registry_.runStep(work);
  }
}

RunOutcome RealExecutor::run(Task<void> main) {
  auto handle = root_->spawn("main", std::move(main));
  registry_.clearFailures();
  RunOutcome outcome;
  while (!handle.done() && !registry_.hasFailures()) {
    if (head_ != nullptr) {
      runReadyBatch();
      // Still busy after a full batch: let I/O and timers in, so tasks cannot starve them.
      if (head_ != nullptr) impl_->io.waitScope.poll();
      continue;
    }
    // Nothing ready: run KJ until one of its events schedules a task. KJ runs its queued
    // events first and waits in epoll only when it has none (a poll after every batch cost
    // one epoll_wait per hop between KJ and the tasks: ~15 per RPC).
    auto paf = kj::newPromiseAndFulfiller<void>();
    impl_->wakeup = kj::mv(paf.fulfiller);
    paf.promise.wait(impl_->io.waitScope);
  }
  impl_->wakeup = nullptr;
  outcome.endTime = now();
  outcome.steps = steps_;
  outcome.message = handle.done() ? registry_.endOfRunFailure(handle) : registry_.firstFailure();
  if (!outcome.message.empty()) outcome.status = RunStatus::kFailed;
  registry_.endRun(handle, *root_);
  return outcome;
}

Task<void> RealTimeProvider::sleep(Duration delay) {
  if (delay < Duration{0}) delay = Duration{0};
  // A deadline from the fresh clock; the timer fires once its own (lagging) time passes it.
  const kj::TimePoint deadline = freshClock().now() + delay.count() * kj::NANOSECONDS;
  co_await awaitPromise(executor_.timer().atTime(deadline));
}

namespace {

std::uint64_t entropySeed() {
  std::uint64_t seed = 0;
  const ssize_t got = getrandom(&seed, sizeof seed, 0);
  MOONPOOL_CHECK_EQ(got, static_cast<ssize_t>(sizeof seed), "getrandom failed");
  return seed;
}

}  // namespace

RealRandomProvider::RealRandomProvider() : RealRandomProvider(entropySeed()) {}
RealRandomProvider::RealRandomProvider(std::uint64_t seed)
    : seed_(seed), main_(deriveSeed(seed, "main")) {}

RandomStream RealRandomProvider::derive(std::string_view name) {
  return RandomStream(deriveSeed(seed_, name));
}

RealRuntime::RealRuntime() : RealRuntime(RealRuntimeOptions{}) {}

RealRuntime::RealRuntime(RealRuntimeOptions options)
    : time_(executor_),
      tasks_(executor_.rootGroup()),
      network_(executor_, options.localIp),
      storage_(std::move(options.storageRoot)) {}

}  // namespace moonpool
