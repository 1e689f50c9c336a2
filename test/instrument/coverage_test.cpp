// Goal: in an exploration build the wrapper instruments compile steps only. Coverage flags
// on a link line make clang-19 silently link the UBSan standalone runtime (toolchain.md P7),
// so a link through the wrapper must never carry them, whatever the environment says.
// Method: compile inputs/branches.cpp with each coverage mode (environment and flag) and
// inspect the object (sections, undefined callback symbol); inspect link steps with `-###`;
// link a trace-pc-guard object with and without callbacks: without, the link must fail on
// the missing callback (no runtime was pulled in to provide it); with, the program runs and
// holds no UBSan runtime symbols.
#include <gtest/gtest.h>

#include <string>

#include "instrument_testing.h"

namespace moonpool::instrument::testing {
namespace {

const std::string kCxx = quote(MP_WRAPPER_CXX);

struct Built {
  CommandResult compile;
  std::string object;
};

// Compiles inputs/branches.cpp at -O1 with `environment` before the command and `flags`
// after the wrapper.
Built compileBranches(const std::string& dir, const std::string& environment,
                      const std::string& flags) {
  Built built{{}, dir + "/branches.o"};
  built.compile = run(environment + " " + kCxx + " " + flags + " -O1 -c " +
                      quote(inputPath("branches.cpp")) + " -o " + quote(built.object));
  return built;
}

std::string sections(const std::string& object) {
  return run("objdump -h " + quote(object)).output;
}

std::string undefinedSymbols(const std::string& object) {
  return run("nm -u " + quote(object)).output;
}

TEST(WrapperCoverage, OffByDefault) {
  Built built = compileBranches(freshWorkDir("cov_off"), "MOONPOOL_COVERAGE=", "");
  ASSERT_EQ(built.compile.exitCode, 0) << built.compile.output;
  EXPECT_FALSE(contains(sections(built.object), "__sancov")) << sections(built.object);
}

TEST(WrapperCoverage, TracePcGuardOnCompile) {
  for (const bool viaFlag : {false, true}) {
    const std::string setting = viaFlag ? "flag" : "environment";
    Built built = compileBranches(freshWorkDir("cov_guard"),
                                  viaFlag ? "" : "MOONPOOL_COVERAGE=trace-pc-guard",
                                  viaFlag ? "--moonpool-coverage=trace-pc-guard" : "");
    ASSERT_EQ(built.compile.exitCode, 0) << setting << "\n" << built.compile.output;
    EXPECT_TRUE(contains(sections(built.object), "__sancov_guards")) << setting;
    EXPECT_TRUE(contains(undefinedSymbols(built.object), "__sanitizer_cov_trace_pc_guard"))
        << setting;
  }
}

TEST(WrapperCoverage, InlineCountersOnCompile) {
  Built built = compileBranches(freshWorkDir("cov_counters"), "",
                                "--moonpool-coverage=inline-8bit-counters");
  ASSERT_EQ(built.compile.exitCode, 0) << built.compile.output;
  const std::string found = sections(built.object);
  EXPECT_TRUE(contains(found, "__sancov_cntrs")) << found;
  EXPECT_TRUE(contains(found, "__sancov_pcs")) << found;
  EXPECT_FALSE(contains(found, "__sancov_guards")) << found;
}

TEST(WrapperCoverage, FlagWinsOverEnvironment) {
  Built built = compileBranches(freshWorkDir("cov_override"), "MOONPOOL_COVERAGE=trace-pc-guard",
                                "--moonpool-coverage=off");
  ASSERT_EQ(built.compile.exitCode, 0) << built.compile.output;
  EXPECT_FALSE(contains(sections(built.object), "__sancov")) << sections(built.object);
}

TEST(WrapperCoverage, DriverCommandsCarryCoverageOnlyWhenCompiling) {
  const std::string env = "MOONPOOL_COVERAGE=trace-pc-guard ";
  const std::string source = quote(inputPath("branches.cpp"));
  CommandResult compile = run(env + kCxx + " -### -c " + source + " -o x.o");
  EXPECT_TRUE(contains(compile.output, "-fsanitize-coverage-trace-pc-guard")) << compile.output;
  EXPECT_TRUE(contains(compile.output, "coverage_ignorelist.txt")) << compile.output;
  for (const std::string& args : {std::string(" -### x.o -o x"), " -### -E " + source,
                                  " -### -fsyntax-only " + source, " -### " + source + " -o x"}) {
    CommandResult other = run(env + kCxx + args);
    EXPECT_FALSE(contains(other.output, "sanitize-coverage")) << args << "\n" << other.output;
    EXPECT_FALSE(contains(other.output, "ubsan")) << args << "\n" << other.output;
  }
}

TEST(WrapperCoverage, LinkStepPullsInNoSanitizerRuntime) {
  const std::string dir = freshWorkDir("cov_link");
  const std::string env = "MOONPOOL_COVERAGE=trace-pc-guard ";
  ASSERT_EQ(run(env + kCxx + " -O1 -c " + quote(inputPath("branches.cpp")) + " -o " +
                quote(dir + "/branches.o"))
                .exitCode,
            0);
  // No callbacks: the link fails, proving no runtime was added to supply them.
  CommandResult bare = run(env + kCxx + " " + quote(dir + "/branches.o") + " -o " +
                           quote(dir + "/bare"));
  EXPECT_NE(bare.exitCode, 0);
  EXPECT_TRUE(contains(bare.output, "undefined reference to `__sanitizer_cov_trace_pc_guard"))
      << bare.output;
  // With callbacks (compiled uninstrumented): links, runs, and holds no UBSan runtime.
  ASSERT_EQ(run(kCxx + " -O1 -c " + quote(inputPath("guard_callbacks.cpp")) + " -o " +
                quote(dir + "/callbacks.o"))
                .exitCode,
            0);
  CommandResult linked = run(env + kCxx + " " + quote(dir + "/branches.o") + " " +
                             quote(dir + "/callbacks.o") + " -o " + quote(dir + "/program"));
  ASSERT_EQ(linked.exitCode, 0) << linked.output;
  EXPECT_EQ(run(quote(dir + "/program")).exitCode, 0);
  const std::string symbols = run("nm " + quote(dir + "/program")).output;
  EXPECT_FALSE(contains(symbols, "__ubsan")) << "UBSan runtime linked";
  EXPECT_FALSE(contains(symbols, "__sanitizer_print_stack_trace")) << "sanitizer_common linked";
}

}  // namespace
}  // namespace moonpool::instrument::testing
