// Goal: moonpool_enable_coverage() (cmake/MoonpoolCoverage.cmake) puts the coverage flags on
// compile options only (never link options, never on the target's users), links the runtime,
// follows the ignorelist's content, and rejects every misuse with a clear configure error.
// Method: configure projects/enable once per CASE in a fresh directory and read CMake's
// output (the ok case prints the targets' properties).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/command.h"

namespace moonpool::covtest {
namespace {

using test_support::CommandResult;
using test_support::contains;
using test_support::quote;

CommandResult configure(const std::string& name, const std::string& arguments) {
  const std::string dir = test_support::freshWorkDir(COVTEST_WORK_DIR, name);
  return test_support::runCommand(
      quote(COVTEST_CMAKE) + " -S " + quote(COVTEST_PROJECT) + " -B " + quote(dir) +
      " -DMOONPOOL_SOURCE_DIR=" + quote(COVTEST_SOURCE_DIR) + " " + arguments);
}

// The value CMake printed for "<key>=" (up to the end of its line).
std::string printed(const std::string& output, const std::string& key) {
  const std::size_t at = output.find("-- " + key + "=");
  if (at == std::string::npos) return "<missing>";
  const std::size_t begin = at + 4 + key.size();
  return output.substr(begin, output.find('\n', begin) - begin);
}

TEST(CoverageCMake, FlagsGoOnCompileStepsOnly) {
  const CommandResult result = configure("ok", "-DCASE=ok -DCMAKE_CXX_COMPILER=clang++-19");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  const std::string userOptions = printed(result.output, "user.COMPILE_OPTIONS");
  EXPECT_TRUE(contains(userOptions, "-fsanitize-coverage=inline-8bit-counters,pc-table"))
      << userOptions;
  EXPECT_TRUE(contains(userOptions, "-fsanitize-coverage-ignorelist=")) << userOptions;
  const std::string appOptions = printed(result.output, "app.COMPILE_OPTIONS");
  EXPECT_TRUE(contains(appOptions, "-fsanitize-coverage=trace-pc-guard,pc-table;"))
      << "default mode " << appOptions;
  for (const std::string target : {"user", "app"}) {
    for (const std::string property :
         {"INTERFACE_COMPILE_OPTIONS", "LINK_OPTIONS", "INTERFACE_LINK_OPTIONS"}) {
      const std::string value = printed(result.output, target + "." + property);
      EXPECT_FALSE(contains(value, "sanitize")) << target << "." << property << "=" << value;
    }
    EXPECT_TRUE(contains(printed(result.output, target + ".LINK_LIBRARIES"),
                         "moonpool::coverage"))
        << target;
  }
  EXPECT_TRUE(contains(printed(result.output, "user.INTERFACE_LINK_LIBRARIES"),
                       "$<LINK_ONLY:moonpool::coverage>"));
  EXPECT_FALSE(contains(printed(result.output, "CMAKE_EXE_LINKER_FLAGS"), "sanitize"));
  EXPECT_FALSE(contains(printed(result.output, "CMAKE_CXX_FLAGS"), "sanitize"));
}

TEST(CoverageCMake, IgnorelistPathFollowsItsContent) {
  const std::string dir = test_support::freshWorkDir(COVTEST_WORK_DIR, "list");
  const std::string list = dir + "/list.txt";
  std::string options[2];
  for (int version = 0; version < 2; ++version) {
    std::ofstream(list) << "fun:_ZNSt*\n" << (version == 0 ? "" : "fun:_ZN4absl*\n");
    const CommandResult result =
        configure("list" + std::to_string(version),
                  "-DCASE=ok -DCMAKE_CXX_COMPILER=clang++-19 -DMOONPOOL_COVERAGE_IGNORELIST=" +
                      quote(list));
    ASSERT_EQ(result.exitCode, 0) << result.output;
    options[version] = printed(result.output, "user.COMPILE_OPTIONS");
    EXPECT_TRUE(contains(options[version], "/moonpool_coverage/ignorelist-")) << options[version];
  }
  EXPECT_NE(options[0], options[1]) << "an edited list must change the compile line";
}

struct Misuse {
  const char* name;
  const char* arguments;
  const char* message;
};

TEST(CoverageCMake, MisuseIsAConfigureError) {
  const Misuse cases[] = {
      {"bad_mode", "-DCASE=bad_mode", "unknown MODE 'fancy'"},
      {"bad_default", "-DCASE=bad_default -DMOONPOOL_COVERAGE_MODE=fancy",
       "unknown MODE 'fancy'"},
      {"missing_mode_value", "-DCASE=missing_mode_value", "MODE needs a value"},
      {"unknown_argument", "-DCASE=unknown_argument", "unknown arguments 'FAST'"},
      {"no_target", "-DCASE=no_target", "moonpool_enable_coverage(nothing): no such target"},
      {"shared_library", "-DCASE=shared_library", "a SHARED_LIBRARY cannot be instrumented"},
      {"imported_target", "-DCASE=imported_target", "an imported target cannot be"},
      {"runtime_target", "-DCASE=runtime_target", "part of the moonpool runtime"},
      {"twice", "-DCASE=twice", "coverage is already enabled (MODE trace-pc-guard)"},
      {"missing_ignorelist", "-DCASE=missing_ignorelist -DMOONPOOL_COVERAGE_IGNORELIST=/nope",
       "ignorelist '/nope' not found"},
      {"no_runtime", "-DCASE=no_runtime", "moonpool::coverage not found"},
  };
  for (const Misuse& misuse : cases) {
    const CommandResult result = configure(misuse.name, misuse.arguments);
    EXPECT_NE(result.exitCode, 0) << misuse.name << "\n" << result.output;
    // CMake wraps long messages; compare without line breaks and indentation.
    std::string flat;
    for (std::size_t i = 0; i < result.output.size(); ++i) {
      if (result.output[i] != '\n') {
        flat += result.output[i];
        continue;
      }
      while (i + 1 < result.output.size() && result.output[i + 1] == ' ') ++i;
      flat += ' ';
    }
    EXPECT_TRUE(contains(flat, misuse.message)) << misuse.name << "\n" << result.output;
  }
}

}  // namespace
}  // namespace moonpool::covtest
