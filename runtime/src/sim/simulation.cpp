// Simulated time and random providers.
#include "moonpool/sim/simulation.h"

namespace moonpool {

Task<void> SimTimeProvider::sleep(Duration delay) { co_await executor_.sleep(delay); }

SimRandomProvider::SimRandomProvider(std::uint64_t runSeed)
    : runSeed_(runSeed), main_(deriveSeed(runSeed, "main")) {}

void SimRandomProvider::reseed(std::uint64_t seed) {
  main_ = RandomStream(seed);
  calls_ = 0;
}

std::uint64_t SimRandomProvider::nextU64() {
  ++calls_;
  return main_.next();
}

RandomStream SimRandomProvider::derive(std::string_view name) {
  MOONPOOL_CHECK(name != "main" && name != "scheduler", "that stream name is reserved");
  return RandomStream(deriveSeed(runSeed_, name));
}

Simulation::Simulation(SimOptions options)
    : executor_(options),
      time_(executor_),
      random_(options.seed),
      tasks_(executor_.rootGroup()) {}

}  // namespace moonpool
