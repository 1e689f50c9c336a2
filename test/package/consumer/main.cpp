// Smallest real moonpool program: one simulated seed with a sleep, then the same task in
// production. Exits 0 when both runs complete as expected.
#include <cstdio>

#include "moonpool/real/real_executor.h"
#include "moonpool/sim/simulation.h"

moonpool::Task<void> nap(moonpool::TimeProvider& time) {
  co_await time.sleep(std::chrono::milliseconds(5));
}

int main() {
  bool ok = true;
  {
    moonpool::Simulation sim(moonpool::SimOptions{.seed = 1});
    auto outcome = sim.run(nap(sim.providers().time()));
    ok = ok && outcome.ok() && outcome.endTime == moonpool::TimePoint(std::chrono::milliseconds(5));
  }
  {
    moonpool::RealRuntime runtime;
    ok = ok && runtime.run(nap(runtime.providers().time())).ok();
  }
  std::printf("%s\n", ok ? "consumer ok" : "consumer FAILED");
  return ok ? 0 : 1;
}
