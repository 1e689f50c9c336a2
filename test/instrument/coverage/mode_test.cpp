// Goal: the coverage runtime, in one mode at a time (this file builds coverage_guard_test,
// linking branches.cpp built with trace-pc-guard, and coverage_counters_test, with
// inline-8bit-counters,pc-table): it registers as the EdgeSource with its mode, captures
// exactly the code run between beginTimeline and endTimeline, feeds the explorer's bucket
// novelty (new inputs are novel, repeats are not), carries a fork()ed child's counts into a
// MAP_SHARED slot without touching the parent's, and its binary carries no sanitizer runtime.
// Method: drive the source the way the explorer does (coverage_testing.h) around calls into
// the instrumented library; compare slots of the same code run in different ways; nm the
// test binary itself.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "branches.h"
#include "coverage_testing.h"
#include "moonpool/coverage/coverage.h"
#include "support/command.h"

namespace moonpool::covtest {
namespace {

namespace target = COVTEST_NS;
const std::string kMode = COVTEST_MODE;
constexpr bool kGuardMode = COVTEST_GUARD_MODE;

TEST(CoverageMode, SourceIsRegisteredWithItsMode) {
  const explorer::EdgeSource* source = explorer::edgeSource();
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(std::string(source->mode()), kMode);
  EXPECT_EQ(explorer::registeredEdgeSourceConflicts(), 0u);
  const coverage::Layout layout = coverage::layout();
  EXPECT_GT(source->edgeCount(), 0u);
  EXPECT_EQ(source->edgeCount(), layout.guardPart + layout.counters);
  if (kGuardMode) {
    EXPECT_GT(layout.guards, 0u);
    EXPECT_EQ(layout.guardPart, layout.guards + 1u) << "index 0 is the sink";
    EXPECT_EQ(layout.guardModules, 1u);
    EXPECT_EQ(layout.counters, 0u);
  } else {
    EXPECT_EQ(layout.guards, 0u);
    EXPECT_EQ(layout.guardPart, 0u);
    EXPECT_GT(layout.counters, 0u);
    ASSERT_EQ(layout.counterModules, 1u);
    ASSERT_EQ(layout.pcTables, 1u);
    EXPECT_EQ(coverage::counterModule(0).size(), layout.counters);
    EXPECT_EQ(coverage::pcTable(0).size(), layout.counters);
    EXPECT_TRUE(coverage::pcTable(0)[0].flags & coverage::kFunctionEntry);
    EXPECT_TRUE(coverage::counterModule(1).empty());
  }
  EXPECT_EQ(layout.lateModules, 0u);
}

TEST(CoverageMode, EachInputClassHitsItsOwnEdges) {
  std::set<std::vector<std::size_t>> seen;
  for (const int input : {-3, 0, 4, 101, 7}) {
    const std::vector<std::size_t> hit = edgesHit(runTimeline([&] { target::classify(input); }));
    EXPECT_FALSE(hit.empty()) << "input " << input;
    EXPECT_TRUE(seen.insert(hit).second) << "input " << input << " hit the edges of another";
  }
}

TEST(CoverageMode, OnlyCodeBetweenBeginAndEndCounts) {
  const Slot reference = runTimeline([] { target::classify(4); });
  const explorer::EdgeSource& source = edgeSourceOrFail();
  Slot slot(source.edgeCount(), 0);
  target::classify(-3);  // before: must not show
  source.beginTimeline(slot.data());
  target::classify(4);
  source.endTimeline(slot.data());
  target::classify(0);  // after: must not show
  EXPECT_EQ(slot, reference);
  EXPECT_NE(runTimeline([] { target::classify(-3); }), reference);
  if (kGuardMode) EXPECT_EQ(slot[0], 0) << "a numbered guard counted into the sink";
}

TEST(CoverageMode, NullSlotKeepsCountingPrivately) {
  // Not the explorer's contract, but it must neither crash nor disturb the next timeline.
  const explorer::EdgeSource& source = edgeSourceOrFail();
  const Slot reference = runTimeline([] { target::classify(4); });
  source.beginTimeline(nullptr);
  target::classify(-3);
  source.endTimeline(nullptr);
  EXPECT_EQ(runTimeline([] { target::classify(4); }), reference);
}

TEST(CoverageMode, RepeatedInputsAddNothingNew) {
  Slot history(edgeSourceOrFail().edgeCount(), 0);
  struct Step {
    int input;
    bool novel;  // first of its class
  };
  for (const Step step : {Step{-7, true}, Step{0, true}, Step{30, true}, Step{10, false},
                          Step{9, true}, Step{1, false}, Step{30, false}, Step{-7, false}}) {
    const std::size_t rose =
        mergeNovelty(history, runTimeline([&] { target::classify(step.input); }));
    if (step.novel) {
      EXPECT_GT(rose, 0u) << "input " << step.input;
    } else {
      EXPECT_EQ(rose, 0u) << "input " << step.input;
    }
  }
}

TEST(CoverageMode, HigherHitCountsRaiseBuckets) {
  Slot history(edgeSourceOrFail().edgeCount(), 0);
  EXPECT_GT(mergeNovelty(history, runTimeline([] { target::loop(2); })), 0u);
  EXPECT_EQ(mergeNovelty(history, runTimeline([] { target::loop(2); })), 0u);
  // The same edges, hit 20 times: bucket 32 > 2.
  EXPECT_GT(mergeNovelty(history, runTimeline([] { target::loop(20); })), 0u);
  // 10 hits: bucket 16, below what the history holds.
  EXPECT_EQ(mergeNovelty(history, runTimeline([] { target::loop(10); })), 0u);
}

TEST(CoverageMode, CountsSaturateInGuardModeAndWrapInCounterMode) {
  // 300 iterations: the loop body's edge passes 255.
  const Slot slot = runTimeline([] { target::loop(300); });
  std::uint8_t highest = 0;
  for (const std::uint8_t hits : slot) highest = std::max(highest, hits);
  if (kGuardMode) {
    EXPECT_EQ(highest, 255) << "trace-pc-guard counts saturate";
  } else {
    EXPECT_LT(highest, 255) << "inline 8-bit counters wrap (300 reads as 44 or so)";
  }
}

// A child forked inside the parent's timeline runs its own timeline into a MAP_SHARED slot.
Slot forkedTimeline(int input, const explorer::EdgeSource& source) {
  const std::size_t size = source.edgeCount();
  void* shared = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(shared, MAP_FAILED);
  if (shared == MAP_FAILED) return {};
  auto* slot = static_cast<std::uint8_t*>(shared);
  const pid_t child = fork();
  if (child == 0) {
    source.beginTimeline(slot);
    target::classify(input);
    source.endTimeline(slot);
    _exit(0);
  }
  int status = -1;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  Slot result(slot, slot + size);
  munmap(shared, size);
  return result;
}

TEST(CoverageMode, ForkedChildCountsReachTheSharedSlot) {
  const explorer::EdgeSource& source = edgeSourceOrFail();
  const Slot childReference = runTimeline([] { target::classify(4); });
  const Slot otherReference = runTimeline([] { target::classify(101); });
  const Slot parentReference = runTimeline([] {
    target::classify(-3);
    target::classify(0);
  });

  Slot parent(source.edgeCount(), 0);
  source.beginTimeline(parent.data());
  target::classify(-3);
  const Slot child = forkedTimeline(4, source);
  const Slot other = forkedTimeline(101, source);
  target::classify(0);
  source.endTimeline(parent.data());

  EXPECT_FALSE(edgesHit(child).empty());
  EXPECT_EQ(child, childReference);
  EXPECT_EQ(other, otherReference);
  EXPECT_NE(child, other);
  EXPECT_EQ(parent, parentReference) << "the children's edges leaked into the parent";
}

TEST(CoverageMode, BinaryCarriesNoSanitizerRuntime) {
  if (COVTEST_SANITIZED) GTEST_SKIP() << "MOONPOOL_SANITIZE links the sanitizer runtimes";
  const test_support::CommandResult symbols =
      test_support::runCommand("nm " + test_support::quote(COVTEST_SELF));
  ASSERT_EQ(symbols.exitCode, 0) << symbols.output;
  // -fsanitize-coverage on the link line would have pulled in UBSan standalone (P7).
  EXPECT_FALSE(test_support::contains(symbols.output, "__ubsan")) << "UBSan runtime linked";
  EXPECT_FALSE(test_support::contains(symbols.output, "__sanitizer_print_stack_trace"));
  const std::string callback = kGuardMode ? " T __sanitizer_cov_trace_pc_guard\n"
                                          : " T __sanitizer_cov_8bit_counters_init\n";
  EXPECT_TRUE(test_support::contains(symbols.output, callback)) << "our callback is missing";
}

}  // namespace
}  // namespace moonpool::covtest
