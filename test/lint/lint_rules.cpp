// Lint rules; see lint_rules.h.
#include "lint_rules.h"

#include <regex>

namespace moonpool::lint {
namespace {

struct Rule {
  const char* name;
  const char* pattern;
  const char* message;
  // Which files the rule applies to and which are exempt (path prefixes).
  std::vector<std::string_view> appliesTo;
  std::vector<std::string_view> exempt;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {"rand", R"((^|[^\w:.>])s?rand\s*\()",
       "rand()/srand() are unseeded global state: use RandomProvider (or a RandomStream with an "
       "explicit seed)",
       {""}, {}},
      {"random-device", R"(random_device)",
       "std::random_device is nondeterministic: use RandomProvider (RealRandomProvider seeds "
       "from the OS in production)",
       {""}, {}},
      {"wall-clock", R"((system_clock|steady_clock|high_resolution_clock)::now)",
       "clock reads are banned outside the real providers: use TimeProvider::now(), or "
       "WallTimer for harness bookkeeping",
       {""}, {"runtime/real/"}},
      {"absl-nondeterminism", R"(absl::(BitGen|Now|SleepFor|InsecureBitGen))",
       "absl::BitGen/Now/SleepFor are salted or wall-clock based: use RandomProvider and "
       "TimeProvider",
       {"runtime/", "capnp/", "explorer/", "instrument/", "examples/"}, {}},
      {"thread", R"(std::(thread|jthread|async)\b)",
       "no threads in simulated code: spawn a Task into a TaskGroup",
       {"runtime/core/", "runtime/sim/", "runtime/kj/", "capnp/src/",
        "examples/"},
       {}},
      {"iostream", R"(#\s*include\s*<iostream>)",
       "<iostream> in a library pulls in static constructors: report through return values, or "
       "fprintf(stderr) in the few reporting paths",
       {"runtime/", "capnp/", "explorer/", "instrument/"}, {}},
      {"debug-print", R"((^|[^\w])(printf|puts)\s*\()",
       "stray debug print in library code: return the information or use the report APIs",
       {"runtime/", "capnp/", "explorer/"}, {}},
      {"pointer-keyed-unordered", R"(unordered_(map|set)\s*<\s*[^,<>]*\*\s*[,>])",
       "iteration order of pointer-keyed hash containers depends on addresses: key by a stable "
       "id, or use an ordered container",
       {""}, {}},
      {"todo-now", R"(TODO\(now\)|FIXME)",
       "TODO(now) and FIXME must be resolved before landing (other TODO kinds are fine)",
       {""}, {}},
  };
  return kRules;
}

bool hasPrefix(std::string_view path, const std::vector<std::string_view>& prefixes) {
  for (std::string_view p : prefixes) {
    if (path.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace

std::vector<Finding> checkFile(std::string_view path, std::string_view text) {
  std::vector<Finding> findings;
  for (const Rule& rule : rules()) {
    if (!hasPrefix(path, rule.appliesTo) || hasPrefix(path, rule.exempt)) continue;
    const std::regex re(rule.pattern);
    int lineNumber = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++lineNumber;
      const std::string line(text.substr(start, end - start));
      // A line may opt out with a reason: `// lint: allow <rule> (why)`.
      const bool allowed = line.find(std::string("lint: allow ") + rule.name) != std::string::npos;
      if (!allowed && std::regex_search(line, re)) {
        findings.push_back(Finding{std::string(path), lineNumber, rule.name, rule.message});
      }
      start = end + 1;
    }
  }
  return findings;
}

}  // namespace moonpool::lint
