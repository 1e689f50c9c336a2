// counter_sim: the counter service (counter_sim.h) behind the standard runner main, with a
// bug that --bug_one_in plants. The runner tests drive this binary: reports, reproduction
// lines, flags, --jobs.
#include "absl/flags/flag.h"
#include "counter_sim.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(int64_t, ops, 20, "adds per seed");
ABSL_FLAG(int64_t, bug_one_in, 0,
          "plant a double-apply bug with probability 1/N per add (0: none)");

ABSL_FLAG(bool, plant_raw_bytes, false,
          "fail every seed through an assertion whose message holds bytes 0xff 0xfe");

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    const int64_t ops = absl::GetFlag(FLAGS_ops);
    const int64_t bugOneIn = absl::GetFlag(FLAGS_bug_one_in);
    if (ops < 1 || ops > 100'000) return absl::InvalidArgumentError("--ops must be in [1, 100000]");
    if (bugOneIn < 0) return absl::InvalidArgumentError("--bug_one_in must be >= 0");
    return moonpool::runner_testing::counterBuilder(
        moonpool::runner_testing::CounterOptions{
            .ops = ops,
            .bugOneIn = bugOneIn,
            .rawBytes = absl::GetFlag(FLAGS_plant_raw_bytes)
                            ? moonpool::runner_testing::CounterOptions::RawBytes::kPlant
                            : moonpool::runner_testing::CounterOptions::RawBytes::kOff});
  });
}
