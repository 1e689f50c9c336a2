// Simulated providers and the bundle that runs one seed (runtime/ sim layer).
//
//   Simulation sim(SimOptions{.seed = 42});
//   RunOutcome outcome = sim.run(myService(sim.providers()));
//
// One Simulation is one seed: its executor, logical clock, counted main random stream
// (deriveSeed(seed, "main")) and root task provider. The simulated world (processes, network,
// storage, faults) is layered on top of it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "moonpool/providers.h"
#include "moonpool/random.h"
#include "moonpool/sim/sim_executor.h"

namespace moonpool {

class SimTimeProvider final : public TimeProvider {
 public:
  explicit SimTimeProvider(SimExecutor& executor) : executor_(executor) {}

  // implements TimeProvider
  TimePoint now() const override { return executor_.now(); }
  Task<void> sleep(Duration delay) override;

 private:
  SimExecutor& executor_;
};

// The counted main stream. Every nextU64() increments callCount(); reseed() restarts the
// stream from a new seed and the count from zero.
//
// Reseed points (the explorer's forks and their replays). A point (count, seed) takes effect
// just before the draw that follows `count` draws of the current segment: the main stream
// restarts from deriveSeed(seed, "main") with its count at zero, and the executor's
// "scheduler" stream from deriveSeed(seed, "scheduler"). Taking effect lazily, at a draw, is
// what makes a replay exact: a forked child arms its point where it forks (inside an
// assertion), a replay arms every point up front, and both reseed at the same draw, with the
// same scheduling decisions in between. Points are applied in order; a point with count 0
// right after another takes effect at the same draw.
struct ReseedPoint {
  std::uint64_t count = 0;
  std::uint64_t seed = 0;
};

class SimRandomProvider final : public RandomProvider {
 public:
  // `executor` (may be null) has its scheduler stream reseeded with the main stream.
  explicit SimRandomProvider(std::uint64_t runSeed, SimExecutor* executor = nullptr);

  std::uint64_t callCount() const { return calls_; }
  void reseed(std::uint64_t seed);

  // Arms a reseed point at the current position; returns its count: the draws of the current
  // segment, or 0 when an armed point has not taken effect yet (this one then follows it).
  std::uint64_t reseedAtNextDraw(std::uint64_t seed);
  // What reseedAtNextDraw() would record now.
  std::uint64_t countForReseed() const { return next_ < points_.size() ? 0 : calls_; }
  // Arms a whole replay (replaces any armed point).
  void setReseedPoints(std::vector<ReseedPoint> points);
  // Reseed points that have taken effect so far.
  std::uint64_t reseedsApplied() const { return applied_; }
  // Called with reseedsApplied() and the last point's seed each time points take effect (the
  // explorer ends a respawned timeline's silent replay there; the world redraws its pending
  // fault timers). At most kListenersMax; removeAppliedListener(context) drops one.
  using AppliedListener = void (*)(void* context, std::uint64_t applied, std::uint64_t seed);
  static constexpr std::size_t kListenersMax = 4;
  void addAppliedListener(AppliedListener listener, void* context);
  void removeAppliedListener(void* context);

  // implements RandomProvider
  std::uint64_t nextU64() override;
  RandomStream derive(std::string_view name) override;

 private:
  void applyPoints();
  void updateNextBreak();

  static constexpr std::uint64_t kNoBreak = ~std::uint64_t{0};

  std::uint64_t runSeed_;
  SimExecutor* executor_;
  RandomStream main_;
  std::uint64_t calls_ = 0;
  std::vector<ReseedPoint> points_{};
  std::size_t next_ = 0;                // first point not yet applied
  std::uint64_t nextBreak_ = kNoBreak;  // calls_ at which points_[next_] applies
  std::uint64_t applied_ = 0;
  struct Listener {
    AppliedListener call = nullptr;
    void* context = nullptr;
  };
  Listener listeners_[kListenersMax]{};
};

class Simulation {
 public:
  explicit Simulation(SimOptions options);
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  Providers providers() { return Providers(time_, tasks_, random_); }
  SimExecutor& executor() { return executor_; }
  SimRandomProvider& random() { return random_; }
  std::uint64_t seed() const { return executor_.seed(); }

  RunOutcome run(Task<void> main) { return executor_.run(std::move(main)); }

 private:
  SimExecutor executor_;
  SimTimeProvider time_;
  SimRandomProvider random_;
  GroupTaskProvider tasks_;
};

}  // namespace moonpool
