// explorer/ is a leaf (DESIGN.md): libc only. Goal: the archive's undefined symbols are its
// own or libc's — no C++ runtime, no other moonpool layer, no Abseil or KJ. Method: `nm -u`
// on libmoonpool_explorer.a, every symbol checked against the archive's definitions and an
// explicit list of the libc functions the explorer is allowed to call.
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "support/command.h"

namespace {

using moonpool::test_support::quote;
using moonpool::test_support::runCommand;

std::set<std::string> symbols(const std::string& command) {
  const auto result = runCommand(command);
  EXPECT_EQ(result.exitCode, 0) << command << "\n" << result.output;
  std::set<std::string> out;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word, last;
    while (words >> word) last = word;
    if (!last.empty() && last.back() != ':') out.insert(last);
  }
  return out;
}

TEST(ExplorerLeafTest, NeedsNothingButLibc) {
  const std::string archive = quote(EXPLORER_ARCHIVE);
  const std::set<std::string> defined =
      symbols("nm --defined-only " + archive + " | awk 'NF==3{print $3}'");
  const std::set<std::string> undefined = symbols("nm -u " + archive);
  const std::set<std::string> libc = {
      "_exit",     "abort",    "clock_gettime", "fflush",  "fork",     "fprintf", "getpid",
      "getppid",   "memcpy",   "memset",        "mmap",    "munmap",   "prctl",   "sem_destroy",
      "sem_init",  "sem_post", "sem_wait",      "sigaction", "sigdescr_np", "snprintf",
      "stderr",    "strerror", "strncmp",       "usleep",  "waitpid",  "__errno_location",
      "memmove",   "strlen",   "fwrite",
      // Interrupts and the root's timed wait (explorer::interrupt, setWaitHook).
      "kill",      "sigaddset", "sigemptyset",   "sigprocmask", "sigtimedwait",
      "sem_timedwait",
  };
  ASSERT_FALSE(undefined.empty());
  // A sanitized build (the asan preset) instruments the archive itself: its runtime hooks
  // are the only other names allowed.
  const auto sanitizerHook = [](const std::string& symbol) {
    for (const char* prefix : {"__asan_", "__ubsan_", "__sanitizer_", "__lsan_",
                               "__start_asan_globals", "__stop_asan_globals"}) {
      if (symbol.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  for (const std::string& symbol : undefined) {
    if (sanitizerHook(symbol)) continue;
    EXPECT_TRUE(defined.count(symbol) > 0 || libc.count(symbol) > 0)
        << symbol << " is neither defined in the explorer nor an allowed libc function";
  }
}

}  // namespace
