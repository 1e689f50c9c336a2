// The simulated world's chaos: attrition (random reboots and pauses) and per-process clock
// drift (see sim/world.h).
#include <algorithm>
#include <cmath>

#include "moonpool/sim/world.h"
#include "world_internal.h"

namespace moonpool {

namespace {

constexpr std::int64_t kPpmScale = 1'000'000;

}  // namespace

// ---------------------------------------------------------------------------------------
// Clocks.

TimePoint SimWorld::DriftingClock::now() const {
  const Duration elapsed = executor_.now() - bootTime_;
  const Duration drift(elapsed.count() / kPpmScale * draw_.ppm +
                       elapsed.count() % kPpmScale * draw_.ppm / kPpmScale);
  return executor_.now() + draw_.offset + drift;
}

Task<void> SimWorld::DriftingClock::sleep(Duration delay) {
  if (delay <= Duration(0) || draw_.ppm == 0) {
    co_await executor_.sleep(delay);
    co_return;
  }
  // Local time runs (1 + ppm/1e6) times as fast as simulated time.
  const auto scale =
      static_cast<long double>(kPpmScale) / static_cast<long double>(kPpmScale + draw_.ppm);
  const auto global =
      static_cast<Duration::rep>(static_cast<long double>(delay.count()) * scale) + 1;
  co_await executor_.sleep(Duration(global));
}

SimWorld::ClockDraw SimWorld::drawClock() {
  ClockDraw draw;
  const ClockDriftOptions& clock = options_.clock;
  MOONPOOL_CHECK(clock.ppmMax >= 0 && clock.ppmMax < kPpmScale / 2, "clock ppmMax out of range");
  if (clock.offsetMax > Duration(0)) {
    draw.offset = sim_.random().durationBetween(Duration(0), clock.offsetMax);
  }
  if (clock.ppmMax > 0) draw.ppm = sim_.random().between(-clock.ppmMax, clock.ppmMax + 1);
  return draw;
}

// ---------------------------------------------------------------------------------------
// Attrition.

Task<void> SimWorld::pauseFor(ProcessId id, std::uint64_t incarnation, Duration length) {
  co_await sim_.executor().sleep(length);
  Process& p = at(id);
  if (p.incarnation == incarnation) resume(id);
}

// A sleep whose deadline onReseed() may move: attrition's wait for its next fault.
class SimWorld::FaultWait {
 public:
  FaultWait(SimWorld& world, TimePoint deadline) : world_(world), deadline_(deadline) {}
  FaultWait(const FaultWait&) = delete;
  FaultWait& operator=(const FaultWait&) = delete;
  ~FaultWait() {
    SimExecutor& executor = world_.sim_.executor();
    if (world_.attritionWait_ == &timer_) world_.attritionWait_ = nullptr;
    if (timer_.queued()) executor.removeTimer(timer_);
    if (timer_.wake.scheduled()) executor.unschedule(timer_.wake);
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self) {
    SimExecutor& executor = world_.sim_.executor();
    timer_.when = deadline_;
    timer_.wake.coroutine = self;
    timer_.wake.task = executor.taskRegistry().current();
    timer_.wake.kind = WakeKind::kTimer;
    executor.addTimer(timer_);
    world_.attritionWait_ = &timer_;
  }
  void await_resume() noexcept { world_.attritionWait_ = nullptr; }

 private:
  SimWorld& world_;
  TimePoint deadline_;
  SimTimer timer_;
};

// An explored timeline diverges here (a reseed point took effect, in the forked child and in
// every replay of it alike): attrition's next fault, drawn before the split, is redrawn so
// that children vary it. Log-uniform between kFaultRedrawMin and the longest gap, from a
// stream of the new seed (the main stream's count is untouched): a fault inside a window of
// a few milliseconds after the split is as likely as one seconds away.
void SimWorld::onReseed(void* context, std::uint64_t /*applied*/, std::uint64_t seed) {
  auto& world = *static_cast<SimWorld*>(context);
  SimTimer* wait = world.attritionWait_;
  if (wait == nullptr || !wait->queued()) return;
  constexpr Duration kFaultRedrawMin = std::chrono::milliseconds(1);
  const Duration longest = std::max(world.attritionGapMax_, kFaultRedrawMin * 2);
  RandomStream stream(deriveSeed(seed, "fault-timers"));
  const double low = std::log(static_cast<double>(kFaultRedrawMin.count()));
  const double high = std::log(static_cast<double>(longest.count()));
  const double nanos = std::exp(low + stream.unit() * (high - low));
  const auto gap = Duration(static_cast<Duration::rep>(nanos));
  SimExecutor& executor = world.sim_.executor();
  executor.removeTimer(*wait);
  wait->when = executor.now() + gap;
  executor.addTimer(*wait);
}

Task<void> SimWorld::attrition(AttritionOptions options, TimePoint until) {
  MOONPOOL_CHECK(options.weightGraceful >= 0 && options.weightCrash >= 0 && options.weightWipe >= 0,
                 "attrition weights must not be negative");
  MOONPOOL_CHECK(options.interval.valid() && options.recovery.valid() && options.pause.valid(),
                 "attrition ranges need 0 <= min <= max");
  RandomProvider& random = sim_.random();
  SimExecutor& executor = sim_.executor();
  attritionGapMax_ = options.interval.max;
  while (executor.now() < until) {
    const Duration gap = random.durationIn(options.interval);
    co_await FaultWait(*this, std::min(until, executor.now() + gap));
    if (executor.now() >= until) break;
    std::vector<ProcessId> candidates;
    std::size_t down = 0;
    for (const auto& p : processes_) {
      if (p->spec.reboot == ProcessSpec::Reboot::kNever) continue;
      if (p->state == ProcessState::kRunning) candidates.push_back(p->id);
      if (p->state == ProcessState::kDead || p->state == ProcessState::kStopping) ++down;
    }
    if (candidates.empty()) continue;
    const ProcessId victim = candidates[random.index(candidates.size())];
    if (random.chance(options.pauseProbability)) {
      const Duration length = random.durationIn(options.pause);
      pause(victim);
      control_->spawn("resume " + at(victim).spec.name,
                      pauseFor(victim, at(victim).incarnation, length))
          .detach();
      continue;
    }
    if (down >= options.deadMax) {
      timeline_.trace("attrition.skip", "*", std::to_string(down) + " process(es) already down");
      continue;
    }
    const double total = options.weightGraceful + options.weightCrash + options.weightWipe;
    RebootKind kind = RebootKind::kCrash;
    if (total > 0) {
      const double pick = random.unit() * total;
      kind = pick < options.weightGraceful                        ? RebootKind::kGraceful
             : pick < options.weightGraceful + options.weightCrash ? RebootKind::kCrash
                                                                  : RebootKind::kCrashAndWipe;
    }
    reboot(victim, kind, random.durationIn(options.recovery));
  }
}

}  // namespace moonpool
