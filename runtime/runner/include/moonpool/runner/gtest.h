// GoogleTest integration: a simulation as a gtest test (runtime/ runner layer, public;
// library moonpool::runner_gtest, so the runner itself never depends on gtest).
//
//   TEST(KvSimulation, SurvivesCrashes) {
//     moonpool::expectSimulationPasses(makeKvBuilder().iterations(50));
//   }
//
// expectSimulationPasses() runs the builder in this process (runSimulation) and reports
// through gtest: one ADD_FAILURE per failing seed, with its reason and a one-line
// reproduction, and one per assertion contract that fails the run (by default
// CoverageContracts::kReachedOnly: a test binary also holds other tests' sites, which this
// run never reaches). The reproduction line
// re-runs just that test on just that seed:
//   MOONPOOL_SEED=17 /abs/path/to/test_binary --gtest_filter=KvSimulation.SurvivesCrashes
//     # build <id>
// Environment (read here only, never by simulated code):
//   MOONPOOL_SEED=S    run only seed S (a replay; coverage contracts are then reported only)
//   MOONPOOL_TRACE=1   record the event trace and print it for failing seeds
#pragma once

#include "moonpool/runner/builder.h"
#include "moonpool/runner/report.h"
#include "moonpool/runner/runner.h"

namespace moonpool {

// Returns the report for further EXPECTs. `options` may set jobs, iteration, etc.; its
// reproduction fields and MOONPOOL_* overrides are filled in here.
RunReport expectSimulationPasses(const SimulationBuilder& builder, RunOptions options = {});

}  // namespace moonpool
