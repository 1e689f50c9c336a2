// Goal: linking the coverage runtime registers nothing by itself: without instrumented code
// no init callback runs, so there is no EdgeSource and the layout is empty (the explorer then
// runs on assertion coverage alone).
// Method: this binary links moonpool::coverage and calls into it, but nothing in it is built
// with coverage flags.
#include <gtest/gtest.h>

#include "moonpool/coverage/coverage.h"
#include "moonpool/explorer/edges.h"

namespace moonpool::covtest {
namespace {

TEST(CoverageNone, NothingRegistersWithoutInstrumentedCode) {
  const coverage::Layout layout = coverage::layout();  // the runtime is linked in
  EXPECT_EQ(explorer::edgeSource(), nullptr);
  EXPECT_EQ(layout.guards, 0u);
  EXPECT_EQ(layout.guardPart, 0u);
  EXPECT_EQ(layout.counters, 0u);
  EXPECT_EQ(layout.counterModules, 0u);
  EXPECT_TRUE(coverage::counterModule(0).empty());
  EXPECT_TRUE(coverage::pcTable(0).empty());
}

}  // namespace
}  // namespace moonpool::covtest
