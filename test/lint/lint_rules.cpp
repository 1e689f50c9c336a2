// Banned-construct lint rules; see lint_rules.h.
#include "lint_rules.h"

#include <algorithm>
#include <regex>

#include "source_text.h"

namespace moonpool::lint {
namespace {

struct Rule {
  const char* name;
  const char* pattern;
  // Literals every match contains: a line with none of them skips the (slow) regex.
  std::vector<std::string_view> needles;
  const char* message;
  // Which files the rule applies to and which are exempt (path prefixes).
  std::vector<std::string_view> appliesTo;
  std::vector<std::string_view> exempt;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {"rand", R"((^|[^\w:.>])s?rand\s*\()", {"rand"},
       "rand()/srand() are unseeded global state: use RandomProvider (or a RandomStream with an "
       "explicit seed)",
       {""}, {}},
      {"random-device", R"(random_device)", {"random_device"},
       "std::random_device is nondeterministic: use RandomProvider (RealRandomProvider seeds "
       "from the OS in production)",
       {""}, {}},
      {"wall-clock", R"((system_clock|steady_clock|high_resolution_clock)::now)", {"::now"},
       "clock reads are banned outside the real providers: use TimeProvider::now(), or "
       "WallTimer for harness bookkeeping",
       {""}, {"runtime/real/"}},
      {"absl-nondeterminism", R"(absl::(BitGen|Now|SleepFor|InsecureBitGen))", {"absl::"},
       "absl::BitGen/Now/SleepFor are salted or wall-clock based: use RandomProvider and "
       "TimeProvider",
       {"runtime/", "capnp/", "explorer/", "instrument/", "examples/"}, {}},
      {"thread", R"(std::(thread|jthread|async)\b)", {"std::"},
       "no threads in simulated code: spawn a Task into a TaskGroup",
       {"runtime/core/", "runtime/sim/", "runtime/kj/", "capnp/src/", "examples/"}, {}},
      {"iostream", R"(#\s*include\s*<iostream>)", {"<iostream>"},
       "<iostream> in a library pulls in static constructors: report through return values, or "
       "fprintf(stderr) in the few reporting paths",
       {"runtime/", "capnp/", "explorer/", "instrument/"}, {}},
      {"debug-print", R"((^|[^\w])(printf|puts)\s*\()", {"printf", "puts"},
       "stray debug print in library code: return the information or use the report APIs",
       {"runtime/", "capnp/", "explorer/"}, {}},
      {"pointer-keyed-unordered", R"(unordered_(map|set)\s*<\s*[^,<>]*\*\s*[,>])", {"unordered_"},
       "iteration order of pointer-keyed hash containers depends on addresses: key by a stable "
       "id, or use an ordered container",
       {""}, {}},
      {"private-namespace",
       R"(\bnamespace\s+(\w+::)*(\w+_internal|internal_\w+|detail|details|impl|priv)\b)",
       {"namespace"},
       "private names go in an anonymous `namespace {` (one file) or in `internal` nested in "
       "the owning namespace (README.md \"Contributing\")",
       {"runtime/", "capnp/", "explorer/", "instrument/", "annotate/", "examples/"}, {}},
      {"todo-now", R"(TODO\(now\)|FIXME)", {"TODO(now)", "FIXME"},
       "TODO(now) and FIXME must be resolved before landing (other TODO kinds are fine)",
       {""}, {}},
  };
  return kRules;
}

}  // namespace

std::string format(const Finding& finding) {
  return finding.path + ":" + std::to_string(finding.line) + ": " + finding.rule + ": " +
         finding.message;
}

std::vector<Finding> checkFile(std::string_view path, std::string_view text) {
  std::vector<Finding> findings;
  // Compiled once, not per file: the whole-tree test runs every rule over every file.
  static const std::vector<std::regex> kCompiled = [] {
    std::vector<std::regex> compiled;
    for (const Rule& rule : rules()) compiled.emplace_back(rule.pattern);
    return compiled;
  }();
  for (std::size_t r = 0; r < rules().size(); ++r) {
    const Rule& rule = rules()[r];
    if (!hasPrefix(path, rule.appliesTo) || hasPrefix(path, rule.exempt)) continue;
    const std::regex& re = kCompiled[r];
    int lineNumber = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++lineNumber;
      const std::string_view line = text.substr(start, end - start);
      start = end + 1;
      const bool candidate =
          std::any_of(rule.needles.begin(), rule.needles.end(),
                      [&](std::string_view n) { return line.find(n) != std::string_view::npos; });
      if (!candidate) continue;
      // A line may opt out with a reason: `// lint: allow <rule> (why)`.
      const bool allowed =
          line.find(std::string("lint: allow ") + rule.name) != std::string::npos;
      if (!allowed && std::regex_search(line.begin(), line.end(), re)) {
        findings.push_back(Finding{std::string(path), lineNumber, rule.name, rule.message, ""});
      }
    }
  }
  return findings;
}

}  // namespace moonpool::lint
