// Smallest real moonpool program: one simulated seed with a sleep, then the same task in
// production, and user code counted by the installed coverage runtime. Exits 0 when all
// hold.
#include <cstdio>

#include "moonpool/explorer/edges.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/sim/simulation.h"

int classify(int value);  // user_code.cpp, built with SanitizerCoverage

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
  // The installed coverage runtime registered itself and counts the user code's edges.
  const moonpool::explorer::EdgeSource* edges = moonpool::explorer::edgeSource();
  ok = ok && edges != nullptr && edges->edgeCount() > 0 && classify(3) == 1;
  std::printf("%s\n", ok ? "consumer ok" : "consumer FAILED");
  return ok ? 0 : 1;
}
