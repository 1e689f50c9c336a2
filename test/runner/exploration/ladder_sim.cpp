// The ladder simulation (see ladder_sim.h).
#include "ladder_sim.h"

#include <csignal>

#include "moonpool/assertions.h"
#include "moonpool/event.h"

namespace moonpool::explorer_testing {
namespace {

struct Climb {
  LadderOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return run(ctx, options);
  }

  static Task<void> run(WorkloadContext& ctx, LadderOptions options) {
    Providers p = ctx.providers();
    for (std::int64_t attempt = 0; attempt < options.attempts; ++attempt) {
      co_await p.time().sleep(std::chrono::milliseconds(1));
      std::int64_t rung = 0;
      while (rung < options.rungs && p.random().chance(options.rungChance)) {
        ++rung;
        MOONPOOL_SOMETIMES_EACH("ladder rung passed", rung);
      }
      ctx.maxMetric("highest rung", rung);
      if (rung < options.rungs) continue;
      switch (options.bug) {
        case TopBug::kAssertion:
          MOONPOOL_ALWAYS(rung < options.rungs, "the top of the ladder is never reached");
          break;
        case TopBug::kSegfault:
          std::raise(SIGSEGV);
          break;
        case TopBug::kHang: {
          Event never;
          co_await never.wait();
          break;
        }
      }
    }
  }
};

}  // namespace

SimulationBuilder ladderBuilder(LadderOptions options) {
  SimulationBuilder builder("ladder");
  builder.workload(Workload{.name = "climber", .run = Climb{options}})
      .iterations(1)
      .guards(Guards{.simTimeBudget = std::chrono::seconds(10)});
  if (options.exploration) builder.explore(*options.exploration);
  return builder;
}

}  // namespace moonpool::explorer_testing
