// The production executor on KJ's event loop (see real/real_executor.h).
#include "moonpool/real/real_executor.h"

#include <sys/random.h>

#include <kj/async-io.h>
#include <kj/time.h>
#include <kj/timer.h>

#include "moonpool/kj/bridge.h"

namespace moonpool {

// Ready tasks run in batches of at most this many steps, each batch one event of KJ's loop.
inline constexpr std::size_t kStepsPerPollMax = 256;
// While KJ always has events queued (tasks that stay ready, say), it still polls I/O and
// timers at least every this many turns (WaitScope::setBusyPollInterval). Each poll is an
// epoll_wait system call; a turn is one event, at most one batch of task steps.
inline constexpr unsigned kTurnsPerPollMax = 64;

// Time is read from the monotonic clock each time it is asked for. KJ's timer is the same
// clock, but it only advances once per loop turn: after blocking work (a slow fsync) it lags,
// and a deadline computed from it would be short by the time spent blocked.
namespace {
const kj::MonotonicClock& freshClock() { return kj::systemPreciseMonotonicClock(); }
}  // namespace

struct RealExecutor::Impl {
  // The ready tasks as an event of KJ's loop: armed when a task becomes ready, it runs one
  // batch when KJ gets to it. Tasks and KJ callbacks thus share one loop and one wait: no
  // promise per hop between them and no return from KJ's wait (measured before: a fresh
  // promise and fulfiller, and a wait() round trip, for every KJ -> task hop, two per RPC).
  // kj::_::Event is KJ's own base for everything its loop runs; 0.9 has no public
  // equivalent that does not allocate per arming.
  class Runner final : public kj::_::Event {
   public:
    explicit Runner(RealExecutor& executor) : executor_(executor) {}
    // Queues the batch (behind KJ's queued events) unless it is queued or running.
    void request() {
      if (armed_ || running_) return;
      armed_ = true;
      armBreadthFirst();
    }
    void cancel() {
      armed_ = false;
      disarm();
    }
    // implements kj::_::Event
    void traceEvent(kj::_::TraceBuilder& builder) override { static_cast<void>(builder); }

   protected:
    kj::Maybe<kj::Own<kj::_::Event>> fire() override {
      armed_ = false;
      running_ = true;
      executor_.runReadyBatch();
      running_ = false;
      executor_.afterBatch();
      return nullptr;
    }

   private:
    RealExecutor& executor_;
    bool armed_ = false;
    bool running_ = false;  // tasks made ready during the batch run in it
  };

  explicit Impl(RealExecutor& executor) : runner(executor) {
    io.waitScope.setBusyPollInterval(kTurnsPerPollMax);
  }

  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::TimePoint start = freshClock().now();
  Runner runner;  // after `io`: an event must not outlive its loop
  // During run(): the main task, and what ends KJ's wait once main ended or a task failed.
  const JoinHandle<void>* main = nullptr;
  kj::Own<kj::PromiseFulfiller<void>> stop;
};

RealExecutor::RealExecutor() : impl_(std::make_unique<Impl>(*this)) {
  previous_ = swapCurrent(this);
  root_ = std::make_unique<TaskGroup>(*this, "root");
}

RealExecutor::~RealExecutor() {
  root_.reset();
  registry_.finishStep();
  MOONPOOL_CHECK_EQ(registry_.size(), std::size_t{0}, "tasks outlive the executor");
  impl_->runner.cancel();
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
  impl_->runner.request();
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

void RealExecutor::afterBatch() {
  const bool ended = impl_->main != nullptr &&
                     (impl_->main->done() || registry_.hasFailures());
  if (ended) {
    if (impl_->stop) impl_->stop->fulfill();
    impl_->stop = nullptr;
    return;
  }
  // Still busy after a full batch: queue the next one behind the events KJ has now.
  if (head_ != nullptr) impl_->runner.request();
}

RunOutcome RealExecutor::run(Task<void> main) {
  auto handle = root_->spawn("main", std::move(main));  // schedules main: the batch is queued
  registry_.clearFailures();
  MOONPOOL_CHECK(impl_->main == nullptr, "RealExecutor::run is not reentrant");
  auto paf = kj::newPromiseAndFulfiller<void>();
  impl_->main = &handle;
  impl_->stop = kj::mv(paf.fulfiller);
  // Tasks and KJ events run in KJ's loop (Impl::Runner) until the stop promise settles.
  paf.promise.wait(impl_->io.waitScope);
  impl_->main = nullptr;
  impl_->stop = nullptr;
  RunOutcome outcome;
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
