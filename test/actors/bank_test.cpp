// Goal: the bank example on actors (examples/bank): seeds that long release runs found
// bugs on keep passing, the directory without leases (Fencing::kNone) is caught by the
// single-activation ALWAYS, and an exploration of two seeds finds no bug. The suite's 1,000
// chaos seeds and the SOMETIMES over them are bank_chaos_test's.
// Method: the example's SimulationBuilder run in-process (runner gtest helper). Pinned seeds
// run BankOptions::first(), the configuration they were found with, so each replays the
// execution it was found in (same decision hash).
#include <gtest/gtest.h>

#include <string>

#include "bank_sim.h"
#include "moonpool/runner/gtest.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/runner/runner.h"

namespace {

// Runs one pinned seed alone and expects it to pass.
void expectSeedPasses(std::uint64_t seed) {
  moonpool::RunOptions options;
  options.seed = seed;
  options.coverage = moonpool::CoverageContracts::kReportOnly;
  moonpool::RunReport report =
      moonpool::expectSimulationPasses(bank::bankBuilder(bank::BankOptions::first()), options);
  EXPECT_EQ(report.totals.failed, 0u) << "seed " << seed;
}

// Pinned seeds where an account's host loses the lease while a turn of it waits (the old
// activation is dropped, its turn runs on) and claims the key again for a new activation.
// 842: the registry restarts; the old turn's state write and self-call reached the new
// activation (fenced per activation since). 2826, 3803: the old turn's self-call was being
// routed when the lease lapsed and was claimed anew (checked again after each await since).
TEST(BankTest, PinnedSeedsATurnOutlivingItsActivationCannotActForTheAccount) {
  for (std::uint64_t seed : {842u, 2826u, 3803u}) {
    expectSeedPasses(seed);
  }
}

// Pinned seeds where the registry's disk reads a state file's sector as garbage, and keeps
// doing so (a bad sector): the account must load from the file's copy.
TEST(BankTest, PinnedSeedsABadSectorInAStateFileLosesNoAccount) {
  for (std::uint64_t seed : {2054u, 4060u, 4764u}) {
    expectSeedPasses(seed);
  }
}

// 3828: a turn failed (its host had lost the lease) and its caller was cancelled before it
// resumed to join it: the failure went unobserved and failed the run (an abandoned turn is
// now detached whether it still runs or has just failed). 6723: a write sent while serving
// returned after another activation took over; the check now runs when the write is sent.
TEST(BankTest, PinnedSeedsLateFailuresAndLateWrites) {
  for (std::uint64_t seed : {3828u, 6723u}) {
    expectSeedPasses(seed);
  }
}

TEST(BankTest, TheDirectoryWithoutLeasesIsCaughtByTheSingleActivationCheck) {
  bank::BankOptions options;
  options.fencing = moonpool::actors::Fencing::kNone;
  moonpool::RunOptions run;
  run.jobs = 2;
  run.iteration = moonpool::IterationControl::fixedCount(6);
  run.coverage = moonpool::CoverageContracts::kReportOnly;
  moonpool::RunReport report = moonpool::runSimulation(bank::bankBuilder(options), run);
  EXPECT_GT(report.totals.failed, 0u) << "the broken directory went unnoticed";
  bool caught = false;
  for (const moonpool::SeedResult& seed : report.seeds) {
    caught |= seed.message.find("at most one activation") != std::string::npos;
  }
  EXPECT_TRUE(caught) << "no seed failed on the single-activation ALWAYS";
}

TEST(BankTest, ExploringTwoSeedsFindsNoBug) {
  moonpool::RunOptions options;
  options.jobs = 2;
  options.iteration = moonpool::IterationControl::fixedCount(2);
  options.explore = moonpool::ExploreMode::kOn;
  // A small budget: each timeline is a whole bank seed (a few hundred ms in Debug).
  moonpool::explorer::Config config;
  config.energyPerSeed = 12;
  config.depthMax = 4;
  config.adaptive = moonpool::explorer::AdaptiveEnergy{
      .batch = 4, .timelinesMin = 4, .timelinesMax = 8, .perMarkEnergy = 4,
      .warmTimelinesMin = 0};
  options.exploration = config;
  options.coverage = moonpool::CoverageContracts::kReportOnly;
  moonpool::RunReport report = moonpool::expectSimulationPasses(bank::bankBuilder({}), options);
  EXPECT_EQ(report.totals.failed, 0u);
  EXPECT_EQ(report.totals.exploredBugSeeds, 0u);
}

}  // namespace
