// ladder_gtest: the ladder (ladder_sim.h) as a GoogleTest test through the gtest helper
// (runner/gtest.h), for ladder_main_test to run as a subprocess. It fails by design: the
// ladder's planted bug is found by exploration. Not a ctest test itself.
#include <gtest/gtest.h>

#include "ladder_sim.h"
#include "moonpool/runner/gtest.h"

namespace moonpool::explorer_testing {
namespace {

TEST(LadderGtest, ExploredSeedFindsThePlantedBug) {
  // LADDER_GTEST_CALL_LINE: the helper reports its failures at this line.
  expectSimulationPasses(ladderBuilder(LadderOptions{}).seeds({2}));
}

}  // namespace
}  // namespace moonpool::explorer_testing
