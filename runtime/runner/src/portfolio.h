// An explored run as a portfolio of plain seeds and explored roots (runtime/ runner layer,
// private). The schedule and its contract are RunOptions::portfolio's (runner.h); this file
// runs it: plain batches through the seed loops (seed_loop.h, on the explorer's parallelism
// in workers), roots through the open exploration session, in one sequence of indices.
#pragma once

#include <string>

#include "exploration.h"
#include "seed_loop.h"

namespace moonpool::internal {

struct PortfolioRun {
  const SimulationSpec& spec;
  const RunOptions& options;  // options.portfolio is set
  const explorer::Config& config;
  const IterationControl& control;
  const SeedSequence& seeds;
  const WallTimer& wall;
  Collector& collector;
  ExplorationSession& session;
};

// Runs the run's (or shard's) seeds under the portfolio until the iteration control, an
// interrupt or --stop_at_first_bug ends it; returns the stop reason and how the time was
// split.
std::string runPortfolio(const PortfolioRun& run, ScheduleSplit& split);

}  // namespace moonpool::internal
