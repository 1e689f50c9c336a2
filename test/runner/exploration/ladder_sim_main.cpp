// ladder_sim: the ladder simulation on the standard main, for the explorer's subprocess tests.
//   ladder_sim --explore [--bug=assertion|segfault|hang] [runner flags]
#include <string>

#include "absl/flags/flag.h"
#include "ladder_sim.h"
#include "moonpool/runner/main.h"

ABSL_FLAG(std::string, bug, "assertion",
          "what the top of the ladder does: assertion|segfault|hang");
ABSL_FLAG(int64_t, rungs, 6, "rungs to the top");

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, []() -> absl::StatusOr<moonpool::SimulationBuilder> {
    moonpool::explorer_testing::LadderOptions options;
    const std::string bug = absl::GetFlag(FLAGS_bug);
    if (bug == "assertion") {
      options.bug = moonpool::explorer_testing::TopBug::kAssertion;
    } else if (bug == "segfault") {
      options.bug = moonpool::explorer_testing::TopBug::kSegfault;
    } else if (bug == "hang") {
      options.bug = moonpool::explorer_testing::TopBug::kHang;
    } else {
      return absl::InvalidArgumentError("--bug must be assertion, segfault or hang, got '" + bug +
                                        "'");
    }
    options.rungs = absl::GetFlag(FLAGS_rungs);
    if (options.rungs < 1 || options.rungs > 20) {
      return absl::InvalidArgumentError("--rungs must be in [1, 20]");
    }
    return moonpool::explorer_testing::ladderBuilder(options);
  });
}
