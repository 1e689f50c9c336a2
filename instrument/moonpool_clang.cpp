// moonpool-clang / moonpool-clang++: the compiler drivers for moonpool code (instrument/
// layer). Each execs clang-19 (C) or clang++-19 (C++) with
//   - the attribute plugin (-fplugin=libmoonpool_attrs.so), so [[moonpool::service]] and
//     friends are known, diagnosed, and need no warning suppression (toolchain.md §3),
//   - the project's include directories (every layer's include/), after the user's,
//   - for C++, `-include kj_cxx20_fix.h`, the Cap'n Proto 0.9 C++20 shim (toolchain.md P5),
//   - in an exploration build, SanitizerCoverage flags on compile steps only (P7).
// Built twice from this file; MP_WRAPPER_CXX selects the language. Written in C++ rather
// than sh so that arguments pass through untouched (no word splitting or quoting rules) and
// the real compiler replaces this process (execvp): exit codes, signals and output are
// clang's own. Only libc and the standard library: it is a leaf.
//
// Wrapper flags (stripped before clang sees them):
//   --moonpool-coverage=<off|trace-pc-guard|inline-8bit-counters>
// Environment:
//   MOONPOOL_COVERAGE   same values; the flag wins. Invisible to ccache's hash, so prefer
//                       the flag (e.g. in CMAKE_CXX_FLAGS) when ccache is the launcher.
//   MOONPOOL_CLANG      the C driver to run instead of the configured clang-19.
//   MOONPOOL_CLANGXX    the C++ driver; if unset, moonpool-clang++ uses MOONPOOL_CLANG with
//                       --driver-mode=g++. An override must be clang 19 (checked: the plugin
//                       is ABI-locked and other versions ignore it silently, P12).
// Exit codes: clang's own once exec'd; 1 when the wrapper rejects its input or environment.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper_paths.h"

extern char** environ;

namespace moonpool::wrapper {
namespace {

#if MP_WRAPPER_CXX
constexpr const char* kName = "moonpool-clang++";
#else
constexpr const char* kName = "moonpool-clang";
#endif
constexpr std::string_view kCoverageFlag = "--moonpool-coverage";
constexpr std::string_view kWrapperFlagPrefix = "--moonpool-";
constexpr std::string_view kPluginFlag = "-fplugin=";
constexpr std::string_view kPluginFile = "/libmoonpool_attrs.so";
// `-dumpversion` prints one short line ("19.1.7"); anything longer is not a clang driver.
constexpr std::size_t kVersionOutputMax = 256;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "%s: error: %s\n", kName, message.c_str());
  std::exit(1);
}

enum class Coverage { kOff, kTracePcGuard, kInline8bitCounters };

// `origin` names where the value came from, for the message.
Coverage parseCoverage(std::string_view value, const std::string& origin) {
  if (value.empty() || value == "off") return Coverage::kOff;
  if (value == "trace-pc-guard") return Coverage::kTracePcGuard;
  if (value == "inline-8bit-counters") return Coverage::kInline8bitCounters;
  fail("unknown coverage mode '" + std::string(value) + "' in " + origin +
       "; use off, trace-pc-guard or inline-8bit-counters");
}

bool fileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string selfDir() {
  std::string buffer(4096, '\0');
  ssize_t length = readlink("/proc/self/exe", buffer.data(), buffer.size());
  if (length <= 0 || static_cast<std::size_t>(length) >= buffer.size()) {
    fail(std::string("cannot locate this executable (/proc/self/exe): ") + std::strerror(errno));
  }
  buffer.resize(static_cast<std::size_t>(length));
  return buffer.substr(0, buffer.rfind('/'));
}

// Where the plugin, headers and ignorelist live: the build tree when the wrapper runs where
// it was built, else the installed layout relative to the wrapper's own directory.
struct Layout {
  std::string plugin;
  std::vector<std::string> includeDirs;
  std::string kjShim;
  std::string ignorelist;
};

Layout findLayout() {
  const std::string dir = selfDir();
  Layout layout;
  if (dir == paths::kBuildBinDir) {
    layout = {paths::kBuildPlugin,
              {std::begin(paths::kBuildIncludes), std::end(paths::kBuildIncludes)},
              paths::kBuildKjShim,
              paths::kBuildIgnorelist};
  } else {
    layout = {dir + "/" + paths::kInstalledPlugin,
              {dir + "/" + paths::kInstalledInclude},
              dir + "/" + paths::kInstalledKjShim,
              dir + "/" + paths::kInstalledIgnorelist};
  }
  if (!fileExists(layout.plugin)) {
    fail("attribute plugin not found at '" + layout.plugin +
         "'; build the moonpool_attrs target (or reinstall moonpool)");
  }
  return layout;
}

// The clang driver to exec and how it was chosen.
struct Driver {
  std::string path;
  std::string origin;  // for messages: "the configured clang-19" or "$MOONPOOL_CLANG"
  bool overridden = false;
  bool cxxModeFlag = false;  // a C driver standing in for clang++: add --driver-mode=g++
};

Driver chooseDriver() {
  const bool cxx = MP_WRAPPER_CXX != 0;
  if (const char* value = std::getenv(cxx ? "MOONPOOL_CLANGXX" : "MOONPOOL_CLANG");
      value != nullptr && *value != '\0') {
    return {value, cxx ? "$MOONPOOL_CLANGXX" : "$MOONPOOL_CLANG", true, false};
  }
  if (const char* value = std::getenv("MOONPOOL_CLANG"); cxx && value != nullptr && *value) {
    return {value, "$MOONPOOL_CLANG", true, true};
  }
  Driver driver{cxx ? paths::kClangxx : paths::kClang, "the configured clang-19", false, false};
  if (access(driver.path.c_str(), X_OK) != 0) {
    const int error = errno;
    fail("cannot run '" + driver.path + "' (" + driver.origin + "): " + std::strerror(error) +
         "; install clang-19, or point " + (cxx ? "$MOONPOOL_CLANGXX" : "$MOONPOOL_CLANG") +
         " at a clang 19 driver");
  }
  return driver;
}

// Runs `<driver> -dumpversion` and returns its output ("" if it could not run or failed).
std::string dumpVersion(const std::string& driver) {
  int fds[2];
  if (pipe(fds) != 0) fail(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 0, 0);
  std::vector<char*> argv = {const_cast<char*>(driver.c_str()),
                             const_cast<char*>("-dumpversion"), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, driver.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string output;
  char buffer[kVersionOutputMax];
  ssize_t count = 0;
  while (spawned == 0 && output.size() < kVersionOutputMax &&
         (count = read(fds[0], buffer, sizeof buffer)) > 0) {
    output.append(buffer, static_cast<std::size_t>(count));
  }
  close(fds[0]);
  if (spawned != 0) return "";
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "";
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

// An override may be any program: it must be a clang 19 driver, or the plugin would be
// ignored (another clang major) or rejected. The configured driver was checked at configure
// time; re-checking it on every compile would cost one extra process (~40 ms) per TU.
void checkOverride(const Driver& driver) {
  const std::string version = dumpVersion(driver.path);
  if (version.empty()) {
    fail("cannot run '" + driver.path + " -dumpversion' (from " + driver.origin +
         "); it must name a clang " + std::to_string(paths::kClangMajor) + " driver");
  }
  const int major = std::atoi(version.c_str());
  if (major != paths::kClangMajor) {
    fail("'" + driver.path + "' (from " + driver.origin + ") is clang " + version +
         "; moonpool needs clang " + std::to_string(paths::kClangMajor) +
         ": the attribute plugin is built for clang " + std::to_string(paths::kClangMajor) +
         " and another version would ignore it silently");
  }
}

// The user's arguments with wrapper flags removed, and what kind of step this is.
struct Invocation {
  std::vector<std::string> args;
  Coverage coverage = Coverage::kOff;
  // A step that generates code from sources (-c or -S) and links nothing. Coverage goes
  // only there: on a link line clang would pull in the UBSan runtime (P7). A one-step
  // compile-and-link (`clang++ a.cpp -o a`) is therefore not instrumented.
  bool compileOnly = false;
  bool hasPlugin = false;  // the arguments already load a libmoonpool_attrs.so
};

Invocation parseArguments(int argc, char** argv) {
  Invocation invocation;
  if (const char* value = std::getenv("MOONPOOL_COVERAGE"); value != nullptr) {
    invocation.coverage = parseCoverage(value, "$MOONPOOL_COVERAGE");
  }
  bool generatesCode = false;
  bool preprocessOnly = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.substr(0, kWrapperFlagPrefix.size()) == kWrapperFlagPrefix) {
      const std::string_view name = arg.substr(0, arg.find('='));
      if (name != kCoverageFlag) {
        fail("unknown wrapper flag '" + std::string(arg) + "'; the only one is " +
             std::string(kCoverageFlag) + "=<off|trace-pc-guard|inline-8bit-counters>");
      }
      if (arg.size() == name.size()) {
        fail(std::string(kCoverageFlag) + " needs a value: " + std::string(kCoverageFlag) +
             "=<off|trace-pc-guard|inline-8bit-counters>");
      }
      invocation.coverage = parseCoverage(arg.substr(name.size() + 1), std::string(arg));
      continue;
    }
    if (arg.substr(0, kPluginFlag.size()) == kPluginFlag &&
        arg.size() >= kPluginFile.size() &&
        arg.substr(arg.size() - kPluginFile.size()) == kPluginFile) {
      invocation.hasPlugin = true;
    }
    if (arg == "-c" || arg == "-S") generatesCode = true;
    if (arg == "-E" || arg == "-M" || arg == "-MM" || arg == "-fsyntax-only") {
      preprocessOnly = true;
    }
    invocation.args.emplace_back(arg);
  }
  invocation.compileOnly = generatesCode && !preprocessOnly;
  return invocation;
}

std::vector<std::string> buildCommand(const Driver& driver, const Layout& layout,
                                      const Invocation& invocation) {
  std::vector<std::string> command = {driver.path};
  if (driver.cxxModeFlag) command.push_back("--driver-mode=g++");
  // A build may pass the plugin itself (moonpool_add_service does for plain clang); loading
  // it twice would register the attributes twice.
  if (!invocation.hasPlugin) command.push_back("-fplugin=" + layout.plugin);
  // Before the user's arguments: the shim must precede any KJ header, including one pulled
  // in by a user's own -include. It is inert outside C++20 (guarded inside).
  if (MP_WRAPPER_CXX != 0) {
    command.push_back("-include");
    command.push_back(layout.kjShim);
  }
  if (invocation.compileOnly && invocation.coverage != Coverage::kOff) {
    // pc-table in both modes: moonpool-cov places each edge by its table entry.
    command.push_back(invocation.coverage == Coverage::kTracePcGuard
                          ? "-fsanitize-coverage=trace-pc-guard,pc-table"
                          : "-fsanitize-coverage=inline-8bit-counters,pc-table");
    if (!fileExists(layout.ignorelist)) {
      fail("coverage ignorelist not found at '" + layout.ignorelist + "'");
    }
    command.push_back("-fsanitize-coverage-ignorelist=" + layout.ignorelist);
  }
  command.insert(command.end(), invocation.args.begin(), invocation.args.end());
  // After the user's arguments, so the user's own -I directories are searched first.
  for (const std::string& dir : layout.includeDirs) command.push_back("-I" + dir);
  return command;
}

}  // namespace
}  // namespace moonpool::wrapper

int main(int argc, char** argv) {
  using namespace moonpool::wrapper;
  const Invocation invocation = parseArguments(argc, argv);
  const Driver driver = chooseDriver();
  if (driver.overridden) checkOverride(driver);
  const Layout layout = findLayout();
  std::vector<std::string> command = buildCommand(driver, layout, invocation);
  std::vector<char*> execArgv;
  execArgv.reserve(command.size() + 1);
  for (std::string& arg : command) execArgv.push_back(arg.data());
  execArgv.push_back(nullptr);
  execvp(execArgv[0], execArgv.data());
  const int error = errno;
  fail("cannot run '" + driver.path + "' (" + driver.origin + "): " + std::strerror(error));
}
