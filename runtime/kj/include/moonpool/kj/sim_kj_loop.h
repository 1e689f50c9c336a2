// A KJ event loop hosted by the simulated executor (runtime/ kj layer).
//
// Cap'n Proto runs unmodified inside the simulation because its event loop is driven by the
// simulator: a custom kj::EventPort tells the SimExecutor when KJ has events, and each KJ
// turn (one event) is then a Runnable the scheduler picks like any task step. KJ time is a
// kj::TimerImpl advanced to simulated time, so kj timers fire at simulated instants and the
// simulator's idle jumps skip to KJ deadlines too.
//
// While a SimKjLoop exists it is the thread's KJ event loop. Its WaitScope stays private:
// promise.wait() would block the simulation's only thread, so KJ promises are awaited from
// Tasks with co_await awaitPromise(...).
// Destroy the loop after the last run() that used it and before its SimExecutor.
//
// Where it comes from: a hand-made simulation creates one right after the Simulation (before
// the SimWorld, so it outlives every process); a runner simulation asks the builder for one
// per seed: SimulationBuilder::externalLoop(&SimKjLoop::make). Without one, rpc::Host and
// rpc::Peer fail at once with an error naming SimKjLoop (requireKjLoop below).
#pragma once

#include <kj/async.h>
#include <kj/timer.h>

#include <memory>
#include <optional>
#include <string_view>

#include "moonpool/sim/sim_executor.h"

namespace moonpool {

class SimKjLoop final : public ExternalLoop {
 public:
  explicit SimKjLoop(SimExecutor& executor);
  SimKjLoop(const SimKjLoop&) = delete;
  SimKjLoop& operator=(const SimKjLoop&) = delete;
  ~SimKjLoop() noexcept override;

  // A SimKjLoop for `executor`, as SimulationBuilder::externalLoop wants it.
  static std::unique_ptr<ExternalLoop> make(SimExecutor& executor);

  // KJ's timer on simulated time (kj::origin<kj::TimePoint>() is simulation time zero).
  kj::Timer& timer() { return timer_; }
  std::uint64_t turns() const { return turns_; }

  // implements ExternalLoop
  std::optional<TimePoint> nextTimer() override;
  void advanceTo(TimePoint now) override;

 private:
  class Port final : public kj::EventPort {
   public:
    explicit Port(SimKjLoop& owner) : owner_(owner) {}
    // implements kj::EventPort
    bool wait() override;
    bool poll() override { return false; }
    void setRunnable(bool runnable) override;

   private:
    SimKjLoop& owner_;
  };

  static void runTurn(Runnable& self);

  SimExecutor& executor_;
  Port port_;
  kj::EventLoop loop_;
  kj::WaitScope waitScope_;
  kj::TimerImpl timer_;
  Runnable turn_;
  std::uint64_t turns_ = 0;
};

// Checks that Cap'n Proto can run here. Under a simulated executor with no SimKjLoop on this
// thread, throws Exception(kFailed) naming `who` and SimKjLoop, and saying where to create
// one (KJ itself would only say "No event loop is running on this thread"). Nothing to check
// elsewhere: the production executor always runs a KJ loop.
void requireKjLoop(std::string_view who);

}  // namespace moonpool
