// Goal: instrument/coverage_ignorelist.txt keeps header code of libstdc++, Abseil and the
// moonpool runtime (Task machinery, combinators, Channel, Event) out of the edge map while
// user code, here in namespace moonpool::covtest::listed like the examples' moonpool::kv,
// stays in; and it cuts the edges of a TU using std::map substantially.
// Method: probe.cpp is built twice with inline-8bit-counters,pc-table, `listed` with the list
// and `raw` without (NO_IGNORELIST). The pc table's function entries are the instrumented
// functions' addresses: nm names them, so each counter is attributed to a function, and a
// function to a copy by the namespace its (demangled) name mentions (probe.cpp instantiates
// every template with its own types; a function shared by both copies, such as a plain
// absl::AlphaNum constructor, exists once in the binary, instrumented or not depending on
// which copy the linker kept, so it counts for neither). Then the same workload of each copy
// runs as a timeline and the edges hit are compared.
#include <gtest/gtest.h>
#include <cxxabi.h>
#include <link.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "coverage_testing.h"
#include "moonpool/coverage/coverage.h"
#include "probe.h"
#include "support/command.h"

namespace moonpool::covtest {
namespace {

struct InstrumentedFunction {
  std::string mangled;
  std::size_t counters = 0;
};

std::string demangle(const std::string& mangled) {
  int status = -1;
  char* text = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string result = status == 0 ? text : mangled;
  std::free(text);
  return result;
}

// The enclosing scopes of a mangled function, outermost first: "_ZNKSt6vector..." -> {std,
// vector}, "_ZN8moonpool7covtest6listed11mapWorkloadEi" -> {moonpool, covtest, listed,
// mapWorkload}. Enough of the Itanium grammar for a prefix: local entity, nested name, cv
// and ref qualifiers, the std:: abbreviations, source names.
std::vector<std::string> scopes(const std::string& mangled) {
  std::vector<std::string> found;
  std::size_t at = 2;  // after _Z
  while (at < mangled.size() && mangled[at] == 'Z') ++at;
  if (at < mangled.size() && mangled[at] == 'N') {
    ++at;
    while (at < mangled.size() && std::strchr("rVKRO", mangled[at]) != nullptr) ++at;
  }
  if (at + 1 < mangled.size() && mangled[at] == 'S' && std::islower(mangled[at + 1])) {
    found.push_back("std");
    at += 2;
  }
  while (at < mangled.size() && std::isdigit(mangled[at])) {
    std::size_t length = 0;
    while (at < mangled.size() && std::isdigit(mangled[at])) {
      length = length * 10 + (mangled[at++] - '0');
    }
    found.push_back(mangled.substr(at, length));
    at += length;
  }
  return found;
}

// The main program's load bias (PIE): what to subtract from a runtime pc to get nm's address.
std::uintptr_t loadBias() {
  std::uintptr_t bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        *static_cast<std::uintptr_t*>(out) = info->dlpi_addr;
        return 1;  // the first object is the program itself
      },
      &bias);
  return bias;
}

// Address -> mangled name of every function symbol of this binary.
std::map<std::uintptr_t, std::string> functionSymbols() {
  const test_support::CommandResult nm =
      test_support::runCommand("nm --defined-only " + test_support::quote(COVTEST_SELF));
  EXPECT_EQ(nm.exitCode, 0) << nm.output;
  std::map<std::uintptr_t, std::string> symbols;
  std::istringstream lines(nm.output);
  std::string line;
  while (std::getline(lines, line)) {
    unsigned long long address = 0;
    char type = 0;
    char name[4096];
    if (std::sscanf(line.c_str(), "%llx %c %4095s", &address, &type, name) != 3) continue;
    if (type != 'T' && type != 't' && type != 'W' && type != 'w') continue;
    symbols.emplace(static_cast<std::uintptr_t>(address), name);
  }
  return symbols;
}

// Every instrumented function of the binary with its number of counters (pc table order:
// a function's entry block, then its other blocks).
std::vector<InstrumentedFunction> instrumentedFunctions() {
  const std::map<std::uintptr_t, std::string> symbols = functionSymbols();
  const std::uintptr_t bias = loadBias();
  std::vector<InstrumentedFunction> functions;
  const coverage::Layout layout = coverage::layout();
  for (std::uint32_t module = 0; module < layout.pcTables; ++module) {
    for (const coverage::PcEntry& entry : coverage::pcTable(module)) {
      if (entry.flags & coverage::kFunctionEntry) {
        auto found = symbols.find(entry.pc - bias);
        functions.push_back({found == symbols.end() ? "<unnamed>" : found->second, 0});
      }
      if (!functions.empty()) ++functions.back().counters;
    }
  }
  return functions;
}

// The functions of one probe copy: those whose name mentions its namespace (in the function's
// scope or in a template argument; the mangled name repeats it unless it was abbreviated to
// a substitution, which only happens after a first full mention).
std::vector<InstrumentedFunction> functionsOf(const std::string& ns) {
  const std::string marker = "7covtest" + std::to_string(ns.size()) + ns;
  std::vector<InstrumentedFunction> matching;
  for (const InstrumentedFunction& function : instrumentedFunctions()) {
    if (test_support::contains(function.mangled, marker)) matching.push_back(function);
  }
  return matching;
}

std::size_t counterSum(const std::vector<InstrumentedFunction>& functions) {
  std::size_t sum = 0;
  for (const InstrumentedFunction& function : functions) sum += function.counters;
  return sum;
}

TEST(CoverageIgnorelist, ProbesRun) {
  EXPECT_EQ(listed::mapWorkload(20), raw::mapWorkload(20));
  EXPECT_EQ(listed::channelWorkload(5), 10);
  EXPECT_EQ(raw::channelWorkload(5), 10);
  EXPECT_EQ(listed::describe(4), "keys 0,1,2,3");
  EXPECT_EQ(raw::describe(4), "keys 0,1,2,3");
}

TEST(CoverageIgnorelist, ListedCopyKeepsOnlyUserCode) {
  const std::vector<InstrumentedFunction> functions = functionsOf("listed");
  bool sawWorkload = false;
  for (const InstrumentedFunction& function : functions) {
    const std::vector<std::string> scope = scopes(function.mangled);
    EXPECT_TRUE(scope.size() >= 3 && scope[0] == "moonpool" && scope[1] == "covtest" &&
                scope[2] == "listed")
        << "library code instrumented despite the ignorelist: " << demangle(function.mangled);
    sawWorkload |= scope.size() >= 4 && scope[3] == "mapWorkload";
  }
  EXPECT_TRUE(sawWorkload) << "user code in a moonpool sub-namespace must stay instrumented";
}

TEST(CoverageIgnorelist, RawCopyInstrumentsLibraryHeaders) {
  std::size_t inStd = 0, runtime = 0, abseil = 0;
  for (const InstrumentedFunction& function : functionsOf("raw")) {
    const std::vector<std::string> scope = scopes(function.mangled);
    if (scope.empty()) continue;
    inStd += scope[0] == "std";
    abseil += scope[0] == "absl";
    runtime += scope[0] == "moonpool" && scope.size() > 1 && scope[1] != "covtest";
  }
  std::printf("raw copy: %zu std::, %zu moonpool runtime, %zu absl:: functions instrumented\n",
              inStd, runtime, abseil);
  EXPECT_GT(inStd, 0u);
  EXPECT_GT(runtime, 0u);
  EXPECT_GT(abseil, 0u);
}

TEST(CoverageIgnorelist, ListCutsCounters) {
  const std::size_t listed = counterSum(functionsOf("listed"));
  const std::size_t raw = counterSum(functionsOf("raw"));
  std::printf("probe.cpp counters: %zu with the ignorelist, %zu without\n", listed, raw);
  if (std::getenv("COVTEST_VERBOSE") != nullptr) {
    for (const InstrumentedFunction& function : instrumentedFunctions()) {
      std::printf("%6zu %s\n", function.counters, demangle(function.mangled).c_str());
    }
  }
  EXPECT_GT(listed, 0u);
  EXPECT_GT(raw, 2 * listed);
}

TEST(CoverageIgnorelist, StdMapWorkloadHitsFewerEdges) {
  const std::size_t listed = edgesHit(runTimeline([] { listed::mapWorkload(20); })).size();
  const std::size_t raw = edgesHit(runTimeline([] { raw::mapWorkload(20); })).size();
  std::printf("mapWorkload edges hit: %zu with the ignorelist, %zu without\n", listed, raw);
  EXPECT_GT(listed, 0u);
  EXPECT_GT(raw, 2 * listed);
}

}  // namespace
}  // namespace moonpool::covtest
