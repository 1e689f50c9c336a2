// Goal: every bug of the corpus (examples/bugs) can be reached and replayed, and every fix
// holds: the fixed variant passes a few hundred seeds, the buggy variant fails on a known
// seed with its planted property, and the same seed passes once fixed (so the fix, not a
// change of luck, is the difference).
// Method: run the binaries as a user would (test/support/command.h) and read their exit
// codes and reports. The known seeds were found by plain runs (examples/bugs/README.md);
// seeds replay exactly, so a change here means the simulation's randomness moved and the
// seed must be searched for again (`<bug>_sim --seeds=N` prints every failing one).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "support/command.h"

namespace moonpool {
namespace {

struct Bug {
  const char* name;
  const char* binary;
  std::uint64_t knownSeed;   // fails in the buggy variant
  const char* property;      // the message of the property it breaks
  std::uint64_t fixedSeeds;  // seeds the fixed variant runs in the test
};

void PrintTo(const Bug& bug, std::ostream* out) { *out << bug.name; }

const Bug kBugs[] = {
    {"double_grant", DOUBLE_GRANT_SIM, 5, "at most one client holds the lock", 200},
    {"stale_read", STALE_READ_SIM, 14, "a read sees every write acknowledged before it", 200},
    {"torn_append", TORN_APPEND_SIM, 19, "every record in the log is one a client appended",
     200},
    {"duplicate_apply", DUPLICATE_APPLY_SIM, 4, "the total is the sum of the acknowledged adds",
     200},
    {"needle", NEEDLE_SIM, 7226, "the ledger total is the sum of the acknowledged adds",
     200},
};

test_support::CommandResult run(const Bug& bug, const std::string& args) {
  return test_support::runCommand(test_support::quote(bug.binary) + " " + args);
}

class BugCorpusTest : public ::testing::TestWithParam<Bug> {};

TEST_P(BugCorpusTest, FixedVariantPassesEverySeed) {
  const Bug& bug = GetParam();
  const std::string seeds = std::to_string(bug.fixedSeeds);
  test_support::CommandResult r = run(bug, "--variant=fixed --jobs=2 --seeds=" + seeds);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(test_support::contains(r.output, "All " + seeds + " seeds passed.")) << r.output;
}

TEST_P(BugCorpusTest, BuggyVariantFailsOnItsKnownSeedAndTheFixHoldsThere) {
  const Bug& bug = GetParam();
  const std::string seed = "--seed=" + std::to_string(bug.knownSeed);
  test_support::CommandResult buggy = run(bug, seed);
  EXPECT_EQ(buggy.exitCode, 1) << buggy.output;
  EXPECT_TRUE(test_support::contains(buggy.output, "FAILED: 1 of 1 seeds failed")) << buggy.output;
  EXPECT_TRUE(test_support::contains(buggy.output, bug.property)) << buggy.output;
  // The report's reproduction line replays the seed (the variant is the default, buggy).
  EXPECT_TRUE(test_support::contains(buggy.output, seed)) << buggy.output;
  test_support::CommandResult fixed = run(bug, seed + " --variant=fixed");
  EXPECT_EQ(fixed.exitCode, 0) << fixed.output;
}

TEST_P(BugCorpusTest, UnknownVariantIsAUsageError) {
  test_support::CommandResult r = run(GetParam(), "--variant=sloppy --seeds=1");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  const std::string expected = "--variant must be 'buggy' or 'fixed', got 'sloppy'";
  EXPECT_TRUE(test_support::contains(r.output, expected)) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BugCorpusTest, ::testing::ValuesIn(kBugs),
                         [](const ::testing::TestParamInfo<Bug>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace moonpool
