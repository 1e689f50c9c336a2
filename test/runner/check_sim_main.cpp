// check_sim: a simulation whose workload fails a MOONPOOL_CHECK in about one seed in four (a
// draw from the counted stream, so which seeds fail depends only on the seed), behind the
// standard runner main. check_failure_test drives it: such a seed is a reported bug and the
// run goes on, with one job and with several.
#include "moonpool/check.h"
#include "moonpool/runner/main.h"

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kCheckOneIn = 4;

moonpool::Task<void> draw(moonpool::WorkloadContext& ctx) {
  moonpool::Providers p = ctx.providers();
  co_await p.time().sleep(5ms);
  const std::uint64_t drawn = p.random().below(kCheckOneIn);
  MOONPOOL_CHECK_NE(drawn, std::uint64_t{0}, "the planted check fails one seed in four");
}

}  // namespace

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    moonpool::SimulationBuilder builder("check");
    builder.workload(moonpool::Workload{.name = "drawer", .run = draw});
    return builder;
  });
}
