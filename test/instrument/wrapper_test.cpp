// Goal: moonpool-clang++ / moonpool-clang compile moonpool code with no extra flags: the
// attribute plugin is loaded (annotated headers are warning-free under -Werror where plain
// clang++-19 warns), the project include directories and the KJ C++20 shim are supplied, and
// every bad input (wrapper flags, coverage modes, a non-19 or missing clang) is a clear error
// with a non-zero exit rather than a silently ignored plugin (toolchain.md P12).
// Method: run the wrappers on inputs/ files and check exit codes and messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "instrument_testing.h"

namespace moonpool::instrument::testing {
namespace {

const std::string kCxx = quote(MP_WRAPPER_CXX);
const std::string kC = quote(MP_WRAPPER_C);

TEST(Wrapper, AnnotatedHeaderCompilesWithoutWarnings) {
  const std::string header = quote(inputPath("echo_service.h"));
  CommandResult wrapped =
      run(kCxx + " -std=c++20 -fsyntax-only -Wall -Wextra -Werror -x c++-header " + header);
  EXPECT_EQ(wrapped.exitCode, 0) << wrapped.output;
  EXPECT_EQ(wrapped.output, "");
  // Guards the check above: plain clang++-19 does not know the attributes.
  CommandResult plain = run(quote(MP_CLANGXX19) + " -std=c++20 -fsyntax-only -Werror -I" +
                            quote(MP_CORE_INCLUDE) + " -x c++-header " + header);
  EXPECT_NE(plain.exitCode, 0);
  EXPECT_TRUE(contains(plain.output, "unknown attribute 'message' ignored")) << plain.output;
}

TEST(Wrapper, SuppliesIncludeDirectoriesAndKjShim) {
  const std::string dir = freshWorkDir("shim");
  CommandResult wrapped = run(kCxx + " -std=c++20 -Wall -Werror -c " +
                              quote(inputPath("capnp_user.cpp")) + " -o " +
                              quote(dir + "/capnp_user.o"));
  EXPECT_EQ(wrapped.exitCode, 0) << wrapped.output;
  // Without the shim, clang-19 in C++20 rejects KJ 0.9's string comparison (P5).
  CommandResult plain = run(quote(MP_CLANGXX19) + " -std=c++20 -fsyntax-only -I" +
                            quote(MP_CORE_INCLUDE) + " " + quote(inputPath("capnp_user.cpp")));
  EXPECT_NE(plain.exitCode, 0) << plain.output;
}

TEST(Wrapper, CompilesC) {
  const std::string dir = freshWorkDir("c");
  CommandResult result = run(kC + " -Wall -Werror -c " + quote(inputPath("hello.c")) + " -o " +
                             quote(dir + "/hello.o"));
  EXPECT_EQ(result.exitCode, 0) << result.output;
  // The C driver neither force-includes the C++ shim nor runs in C++ mode.
  CommandResult commands = run(kC + " -### -c " + quote(inputPath("hello.c")));
  EXPECT_FALSE(contains(commands.output, "kj_cxx20_fix.h")) << commands.output;
  EXPECT_TRUE(contains(commands.output, "libmoonpool_attrs.so")) << commands.output;
}

TEST(Wrapper, LoadsThePluginOnce) {
  // moonpool_add_service passes -fplugin to users of a service library built with plain
  // clang; through the wrapper that must not load the plugin a second time.
  CommandResult commands = run(kCxx + " -### -fplugin=" + quote(MP_PLUGIN) + " -c " +
                               quote(inputPath("branches.cpp")));
  const std::string plugin = "libmoonpool_attrs.so";
  const std::size_t first = commands.output.find(plugin);
  ASSERT_NE(first, std::string::npos) << commands.output;
  EXPECT_EQ(commands.output.find(plugin, first + 1), std::string::npos) << commands.output;
}

TEST(Wrapper, InstalledLayoutWorks) {
  // Installed, the wrapper finds the plugin, headers and ignorelist relative to itself.
  const std::string prefix = freshWorkDir("install") + "/prefix";
  CommandResult installed =
      run(quote(MP_CMAKE) + " --install " + quote(MP_BINARY_DIR) + " --prefix " + quote(prefix));
  ASSERT_EQ(installed.exitCode, 0) << installed.output;
  const std::string wrapper = quote(prefix + "/bin/moonpool-clang++");
  CommandResult header = run(wrapper + " -std=c++20 -fsyntax-only -Wall -Werror -x c++-header " +
                             quote(inputPath("echo_service.h")));
  EXPECT_EQ(header.exitCode, 0) << header.output;
  CommandResult shim = run(wrapper + " -std=c++20 -fsyntax-only -Wall -Werror " +
                           quote(inputPath("capnp_user.cpp")));
  EXPECT_EQ(shim.exitCode, 0) << shim.output;
  CommandResult commands = run(wrapper + " -### --moonpool-coverage=trace-pc-guard -c " +
                               quote(inputPath("branches.cpp")));
  EXPECT_TRUE(contains(commands.output, prefix + "/bin/../lib/moonpool/libmoonpool_attrs.so"))
      << commands.output;
  EXPECT_TRUE(contains(commands.output, prefix + "/bin/../share/moonpool/coverage_ignorelist.txt"))
      << commands.output;
  // The table moonpool-cov places edges with comes along, as with moonpool_enable_coverage.
  EXPECT_TRUE(contains(commands.output, "-fsanitize-coverage-trace-pc-guard")) << commands.output;
  EXPECT_TRUE(contains(commands.output, "-fsanitize-coverage-pc-table")) << commands.output;
}

TEST(Wrapper, ReportsClangVersion19) {
  // CMake's compiler identification relies on the wrapper behaving as clang 19.
  CommandResult version = run(kCxx + " -dumpversion");
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_EQ(version.output.substr(0, 3), "19.") << version.output;
}

TEST(Wrapper, RejectsAnotherClangVersion) {
  // A stand-in driver reporting clang 14: deterministic whatever is installed.
  const std::string dir = freshWorkDir("old_clang");
  const std::string fake = dir + "/clang++-14";
  ASSERT_EQ(run("printf '#!/bin/sh\\necho 14.0.6\\n' > " + quote(fake) + " && chmod +x " +
                quote(fake))
                .exitCode,
            0);
  for (const std::string& variable : {"MOONPOOL_CLANGXX", "MOONPOOL_CLANG"}) {
    CommandResult result =
        run(variable + "=" + quote(fake) + " " + kCxx + " -fsyntax-only -x c++ /dev/null");
    EXPECT_EQ(result.exitCode, 1) << variable;
    EXPECT_TRUE(contains(result.output, "moonpool-clang++: error: '" + fake + "' (from $" +
                                            variable + ") is clang 14.0.6; moonpool needs "
                                                       "clang 19"))
        << result.output;
  }
  CommandResult c =
      run("MOONPOOL_CLANG=" + quote(fake) + " " + kC + " -fsyntax-only -x c /dev/null");
  EXPECT_EQ(c.exitCode, 1);
  EXPECT_TRUE(contains(c.output, "moonpool-clang: error: ")) << c.output;
}

TEST(Wrapper, RejectsInstalledClang14) {
  if (std::string(MP_CLANG14).empty()) GTEST_SKIP() << "clang-14 is not installed";
  CommandResult result = run(std::string("MOONPOOL_CLANG=") + quote(MP_CLANG14) + " " + kC +
                             " -fsyntax-only -x c /dev/null");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_TRUE(contains(result.output, "is clang 14.")) << result.output;
}

TEST(Wrapper, ReportsMissingClang) {
  CommandResult result = run("MOONPOOL_CLANGXX=/nonexistent/clang++-19 " + kCxx + " --version");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_TRUE(contains(result.output, "moonpool-clang++: error: cannot run "
                                      "'/nonexistent/clang++-19 -dumpversion' (from "
                                      "$MOONPOOL_CLANGXX)"))
      << result.output;
}

TEST(Wrapper, RejectsBadWrapperFlags) {
  struct Case {
    std::string command;
    std::string message;
  };
  const std::vector<Case> cases = {
      {kCxx + " --moonpool-coverage -c x.cpp", "--moonpool-coverage needs a value"},
      {kCxx + " --moonpool-coverage=edges -c x.cpp",
       "unknown coverage mode 'edges' in --moonpool-coverage=edges"},
      {kCxx + " --moonpool-frobnicate -c x.cpp", "unknown wrapper flag '--moonpool-frobnicate'"},
      {"MOONPOOL_COVERAGE=bogus " + kCxx + " -c x.cpp",
       "unknown coverage mode 'bogus' in $MOONPOOL_COVERAGE"},
      {"MOONPOOL_COVERAGE=bogus " + kC + " -c x.c",
       "moonpool-clang: error: unknown coverage mode"}};
  for (const Case& c : cases) {
    CommandResult result = run(c.command);
    EXPECT_EQ(result.exitCode, 1) << c.command;
    EXPECT_TRUE(contains(result.output, c.message)) << c.command << "\n" << result.output;
  }
}

}  // namespace
}  // namespace moonpool::instrument::testing
