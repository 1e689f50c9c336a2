// The KJ event loop hosted by the simulated executor (see sim_kj_loop.h).
#include "moonpool/kj/sim_kj_loop.h"

#include <kj/debug.h>

#include <string>

#include "moonpool/error.h"

namespace moonpool {

namespace {

// SimKjLoops alive on this thread (requireKjLoop). A count, not a flag: a test may nest one
// simulation inside another's lifetime.
thread_local int simKjLoopsAlive = 0;

kj::TimePoint toKj(TimePoint t) {
  return kj::origin<kj::TimePoint>() + t.time_since_epoch().count() * kj::NANOSECONDS;
}

TimePoint fromKj(kj::TimePoint t) {
  return TimePoint(Duration((t - kj::origin<kj::TimePoint>()) / kj::NANOSECONDS));
}

}  // namespace

bool SimKjLoop::Port::wait() {
  KJ_FAIL_REQUIRE(
      "kj::Promise::wait() inside the simulation would block the only thread; "
      "co_await moonpool::awaitPromise(promise) from a Task instead");
}

void SimKjLoop::Port::setRunnable(bool runnable) {
  Runnable& turn = owner_.turn_;
  if (runnable && !turn.scheduled()) {
    owner_.executor_.schedule(turn);
  } else if (!runnable && turn.scheduled()) {
    owner_.executor_.unschedule(turn);
  }
}

SimKjLoop::SimKjLoop(SimExecutor& executor)
    : executor_(executor),
      port_(*this),
      loop_(port_),
      waitScope_(loop_),
      timer_(toKj(executor.now())) {
  turn_.callback = &SimKjLoop::runTurn;
  turn_.context = this;
  turn_.kind = WakeKind::kExternal;
  executor_.attachExternal(*this);
  ++simKjLoopsAlive;
}

SimKjLoop::~SimKjLoop() noexcept {
  --simKjLoopsAlive;
  executor_.detachExternal(*this);
  if (turn_.scheduled()) executor_.unschedule(turn_);
}

std::unique_ptr<ExternalLoop> SimKjLoop::make(SimExecutor& executor) {
  return std::make_unique<SimKjLoop>(executor);
}

void requireKjLoop(std::string_view who) {
  if (simKjLoopsAlive > 0) return;
  if (dynamic_cast<SimExecutor*>(Executor::tryCurrent()) == nullptr) return;
  throw Exception(ErrorKind::kFailed,
                  std::string(who) +
                      " needs Cap'n Proto's event loop, and this simulation has none: create "
                      "a moonpool::SimKjLoop (moonpool/kj/sim_kj_loop.h) right after the "
                      "Simulation, before the SimWorld, or give the runner one per seed with "
                      "SimulationBuilder::externalLoop(&moonpool::SimKjLoop::make)");
}

void SimKjLoop::runTurn(Runnable& self) {
  auto* owner = static_cast<SimKjLoop*>(self.context);
  ++owner->turns_;
  owner->loop_.run(1);
  // KJ reports runnable transitions only; the executor took turn_ out of the ready set when
  // it picked it, so put it back if KJ still has events.
  if (owner->loop_.isRunnable() && !self.scheduled()) owner->executor_.schedule(self);
}

std::optional<TimePoint> SimKjLoop::nextTimer() {
  KJ_IF_MAYBE(next, timer_.nextEvent()) { return fromKj(*next); }
  return std::nullopt;
}

void SimKjLoop::advanceTo(TimePoint now) { timer_.advanceTo(toKj(now)); }

}  // namespace moonpool
