// Simulated providers and the bundle that runs one seed (runtime/ core layer).
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
// stream from a new seed and the count from zero (the explorer's fork points and replay).
class SimRandomProvider final : public RandomProvider {
 public:
  explicit SimRandomProvider(std::uint64_t runSeed);

  std::uint64_t callCount() const { return calls_; }
  void reseed(std::uint64_t seed);

  // implements RandomProvider
  std::uint64_t nextU64() override;
  RandomStream derive(std::string_view name) override;

 private:
  std::uint64_t runSeed_;
  RandomStream main_;
  std::uint64_t calls_ = 0;
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
