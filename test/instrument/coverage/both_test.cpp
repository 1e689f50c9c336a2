// Goal: both modes in one binary (branches.cpp built with trace-pc-guard and with
// inline-8bit-counters): one EdgeSource names both, and its map holds the guard part (sink +
// guards) followed by the counters, each copy counting only in its own part.
// Method: run each copy's code as a timeline and check where its edges land.
#include <gtest/gtest.h>

#include <string>

#include "branches.h"
#include "coverage_testing.h"
#include "moonpool/coverage/coverage.h"

namespace moonpool::covtest {
namespace {

TEST(CoverageBoth, OneSourceNamesBothModes) {
  const explorer::EdgeSource* source = explorer::edgeSource();
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(std::string(source->mode()), "trace-pc-guard+inline-8bit-counters");
  const coverage::Layout layout = coverage::layout();
  EXPECT_GT(layout.guards, 0u);
  EXPECT_GT(layout.counters, 0u);
  EXPECT_EQ(source->edgeCount(), layout.guards + 1u + layout.counters);
}

TEST(CoverageBoth, EachCopyCountsInItsOwnPart) {
  const std::size_t guardPart = coverage::layout().guardPart;
  const std::vector<std::size_t> guardHits = edgesHit(runTimeline([] { guard::classify(7); }));
  const std::vector<std::size_t> counterHits =
      edgesHit(runTimeline([] { counters::classify(7); }));
  ASSERT_FALSE(guardHits.empty());
  ASSERT_FALSE(counterHits.empty());
  EXPECT_GE(guardHits.front(), 1u) << "index 0 is the sink";
  EXPECT_LT(guardHits.back(), guardPart);
  EXPECT_GE(counterHits.front(), guardPart);
  // The same source, the same path: the same number of edges in both modes at -O0; allow the
  // optimizer (asan preset, -O1) to differ.
  EXPECT_NEAR(static_cast<double>(guardHits.size()), static_cast<double>(counterHits.size()),
              2.0);
}

}  // namespace
}  // namespace moonpool::covtest
