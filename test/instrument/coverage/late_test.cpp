// Goal: instrumented code that initializes after the edge map was sized (a dlopen()ed
// module, here inside a timeline) is left out of the map without breaking it: edgeCount()
// and the layout stay as they were, the module's unnumbered guards count into the sink
// (index 0, never past the slot), its counters are not copied, and one line on stderr says
// so.
// Also: more than kModulesMax modules with counters abort before they could overflow the
// runtime's table, with a message naming the bound.
// Method: this executable (with branches.cpp in trace-pc-guard, so the map has a guard part)
// exports the runtime's callbacks; late_module.cpp, built with trace-pc-guard and
// inline-8bit-counters, is loaded with dlopen inside a timeline and called. For the bound,
// a death test (re-executed: the layout is still open there) loads kModulesMax + 1 copies.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "branches.h"
#include "coverage_testing.h"
#include "moonpool/coverage/coverage.h"
#include "support/command.h"

namespace moonpool::covtest {
namespace {

TEST(CoverageLate, ModuleLoadedInATimelineCountsIntoTheSink) {
  const explorer::EdgeSource& source = edgeSourceOrFail();
  const std::size_t edges = source.edgeCount();
  const coverage::Layout before = coverage::layout();
  ASSERT_GT(before.guards, 0u);

  Slot slot(edges + 16, 0);  // room to see writes past the map (must stay 0)
  source.beginTimeline(slot.data());
  guard::classify(3);
  testing::internal::CaptureStderr();
  void* module = dlopen(COVTEST_LATE_MODULE, RTLD_NOW | RTLD_LOCAL);
  const std::string diagnostics = testing::internal::GetCapturedStderr();
  ASSERT_NE(module, nullptr) << dlerror();
  auto* lateFunction = reinterpret_cast<int (*)(int)>(dlsym(module, "lateFunction"));
  ASSERT_NE(lateFunction, nullptr) << dlerror();
  EXPECT_EQ(lateFunction(1), 1);
  EXPECT_EQ(lateFunction(-1), 2);
  source.endTimeline(slot.data());

  const coverage::Layout after = coverage::layout();
  EXPECT_EQ(source.edgeCount(), edges);
  EXPECT_EQ(after.guards, before.guards);
  EXPECT_EQ(after.counters, before.counters);
  EXPECT_EQ(after.counterModules, before.counterModules);
  EXPECT_GE(after.lateModules, 2u) << "a guard and a counter init call";
  EXPECT_NE(diagnostics.find("initialized after the edge map was sized"), std::string::npos)
      << diagnostics;
  EXPECT_GT(slot[0], 0) << "the module's unnumbered guards count into the sink";
  for (std::size_t i = edges; i < slot.size(); ++i) EXPECT_EQ(slot[i], 0) << "past the map";
  EXPECT_FALSE(edgesHit(Slot(slot.begin() + 1, slot.begin() + before.guardPart)).empty())
      << "classify's own edges";
  dlclose(module);
}

// Loads `count` distinct copies of the module (dlopen of one path twice loads it once).
void loadCopies(std::uint32_t count, const std::string& dir) {
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string copy = dir + "/late_" + std::to_string(i) + ".so";
    std::filesystem::copy_file(COVTEST_LATE_MODULE, copy,
                               std::filesystem::copy_options::overwrite_existing);
    if (dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) std::abort();
  }
}

TEST(CoverageLateDeathTest, MoreThanModulesMaxCounterModulesAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string dir = test_support::freshWorkDir(COVTEST_WORK_DIR, "copies");
  EXPECT_DEATH(loadCopies(coverage::kModulesMax + 1, dir),
               "more than kModulesMax modules with inline 8-bit counters");
}

}  // namespace
}  // namespace moonpool::covtest
