// A program linking only the simulation layer (moonpool::sim): a seeded run of a task
// awaiting another across two timers. Exits 0 when the result and the simulated clock are
// where the two sleeps put them.
#include <chrono>
#include <cstdio>

#include "moonpool/sim/simulation.h"

namespace {

moonpool::Task<int> slow(moonpool::TimeProvider& time) {
  co_await time.sleep(std::chrono::milliseconds(30));
  co_return 2;
}

moonpool::Task<void> both(moonpool::TimeProvider& time, int& result) {
  co_await time.sleep(std::chrono::milliseconds(10));
  result = 1 + co_await slow(time);
}

}  // namespace

int main() {
  moonpool::Simulation sim(moonpool::SimOptions{.seed = 7});
  int result = 0;
  const moonpool::RunOutcome outcome = sim.run(both(sim.providers().time(), result));
  const bool ok = outcome.ok() && result == 3 &&
                  outcome.endTime == moonpool::TimePoint(std::chrono::milliseconds(40));
  std::printf("%s\n", ok ? "sim_only ok" : "sim_only FAILED");
  return ok ? 0 : 1;
}
