// GoogleTest integration: a simulation as a gtest test (runtime/ runner layer, public;
// library moonpool::runner_gtest, so the runner itself never depends on gtest).
//
//   TEST(KvSimulation, SurvivesCrashes) {
//     moonpool::expectSimulationPasses(makeKvBuilder().iterations(50));
//   }
//
// expectSimulationPasses() runs the builder in this process (runSimulation) and reports
// through gtest, at the caller's file and line: one failure per failing seed, with its
// reason and a one-line reproduction, and one per assertion contract that fails the run (by
// default CoverageContracts::kReachedOnly: a test binary also holds other tests' sites,
// which this run never reaches). The reproduction line re-runs just that test on just that
// seed:
//   MOONPOOL_SEED=17 MOONPOOL_BUILD=<id> /abs/path/to/test_binary
//     --gtest_filter=KvSimulation.SurvivesCrashes
// and a bug found by exploration prints its recipe and the same line with
// MOONPOOL_REPLAY='<recipe>' instead, which replays that timeline in the test.
// Environment (read here only, never by simulated code):
//   MOONPOOL_SEED=S         run only seed S (a replay; coverage contracts are then reported
//                           only)
//   MOONPOOL_REPLAY=RECIPE  replay one explored timeline (the recipe a bug printed)
//   MOONPOOL_BUILD=ID       refuse to run unless this binary is build ID (the lines above
//                           carry it; MOONPOOL_ALLOW_BUILD_MISMATCH=1 overrides)
//   MOONPOOL_TRACE=1        record the event trace and print it for failing seeds
#pragma once

#include <source_location>

#include "moonpool/runner/builder.h"
#include "moonpool/runner/report.h"
#include "moonpool/runner/runner.h"

namespace moonpool {

// Returns the report for further EXPECTs. `options` may set jobs, iteration, etc.; its
// reproduction fields and MOONPOOL_* overrides are filled in here.
RunReport expectSimulationPasses(const SimulationBuilder& builder, RunOptions options = {},
                                 std::source_location where = std::source_location::current());

}  // namespace moonpool
