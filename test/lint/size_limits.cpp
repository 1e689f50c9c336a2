// Size limits and the ratchet list; see size_limits.h.
#include "size_limits.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>
#include <utility>

#include "function_scanner.h"
#include "source_text.h"

namespace moonpool::lint {
namespace {

// Written at the top of a regenerated ratchet.txt.
constexpr std::string_view kRatchetHeader =
    "# Today's exceptions to the size limits (STYLE.md rule 15), checked by size_limits_test\n"
    "# (SizeLimitsTest.TheTreeKeepsItsRatchet; rules in test/lint/size_limits.h). The list may\n"
    "# only shrink: an item over a limit that is not listed, a listed item that got worse, and\n"
    "# an entry whose item now meets its limit or is gone all fail the test.\n"
    "#   columns <path> <how many lines are over 100 columns>\n"
    "#   function <path>:<qualified name> <lines, signature to closing brace; limit 70>\n"
    "#   file <path> <lines; limit 500 unless line 1 is `// long file: <reason>`>\n"
    "# Generated; after renames and splits regenerate it (from the worktree root, after\n"
    "# building size_limits_test) and check that the diff only shrinks:\n"
    "#   MOONPOOL_LINT_WRITE_RATCHET=1 build/dev/test/size_limits_test \\\n"
    "#     --gtest_filter=SizeLimitsTest.TheTreeKeepsItsRatchet\n";

std::string pathOf(const Measurement& m) { return m.key.substr(0, m.key.find(':')); }

std::string describe(const std::string& kind, const std::string& key, int value) {
  if (kind == "columns") {
    return std::to_string(value) + (value == 1 ? " line" : " lines") + " over " +
           std::to_string(kColumnsMax) + " columns";
  }
  if (kind == "function") {
    return "function " + key.substr(key.find(':') + 1) + " is " + std::to_string(value) +
           " lines (limit " + std::to_string(kFunctionLinesMax) + ")";
  }
  return "the file is " + std::to_string(value) + " lines (limit " +
         std::to_string(kFileLinesMax) + ")";
}

std::string remedy(const std::string& kind) {
  if (kind == "columns") return "wrap them";
  if (kind == "function") return "split it";
  return "split it, or give the reason on line 1: `" + std::string(kLongFileMarker) + "<why>`";
}

bool hasLongFileReason(std::string_view text) {
  const std::string_view first = text.substr(0, text.find('\n'));
  return first.starts_with(kLongFileMarker) &&
         first.substr(kLongFileMarker.size()).find_first_not_of(" \t") != std::string::npos;
}

// One item against its recorded value (or none), as at most one finding.
void compareOne(const Measurement* now, const RatchetEntry* listed, std::string_view ratchetPath,
                std::vector<Finding>& findings) {
  const std::string list(ratchetPath);
  if (now == nullptr) {
    findings.push_back({list, listed->line, "size",
                        "stale entry `" + listed->kind + " " + listed->key + " " +
                            std::to_string(listed->value) +
                            "`: the item now meets its limit or is gone; delete the line",
                        ""});
    return;
  }
  const std::string what = describe(now->kind, now->key, now->value);
  if (listed == nullptr) {
    findings.push_back({pathOf(*now), now->line, "size",
                        what + "; " + remedy(now->kind) + " (" + list + " only shrinks)", ""});
  } else if (now->value > listed->value) {
    findings.push_back({pathOf(*now), now->line, "size",
                        what + ", worse than the " + std::to_string(listed->value) +
                            " recorded in " + list + "; " + remedy(now->kind),
                        ""});
  }
}

}  // namespace

bool inSizeScope(std::string_view path) {
  static const std::vector<std::string_view> kDirs = {
      "runtime/", "capnp/", "explorer/", "instrument/", "annotate/", "examples/", "test/"};
  static const std::vector<std::string_view> kExempt = {"test/annotate/golden/",
                                                        "test/annotate/inputs/"};
  return hasPrefix(path, kDirs) && !hasPrefix(path, kExempt);
}

std::vector<Measurement> measureFile(std::string_view path, std::string_view text) {
  std::vector<Measurement> out;
  const std::vector<std::string_view> lines = splitLines(text);
  int over = 0;
  int first = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (columnsOf(lines[i]) <= kColumnsMax) continue;
    if (over++ == 0) first = static_cast<int>(i) + 1;
  }
  if (over > 0) out.push_back({"columns", std::string(path), over, first});
  for (const FunctionSpan& span : findFunctions(text)) {
    if (span.lines() <= kFunctionLinesMax) continue;
    out.push_back({"function", std::string(path) + ":" + span.name, span.lines(), span.firstLine});
  }
  const int fileLines = static_cast<int>(lines.size());
  if (fileLines > kFileLinesMax && !hasLongFileReason(text)) {
    out.push_back({"file", std::string(path), fileLines, 1});
  }
  return out;
}

std::vector<RatchetEntry> parseRatchet(std::string_view text, std::vector<std::string>& errors) {
  std::vector<RatchetEntry> entries;
  int lineNumber = 0;
  for (std::string_view line : splitLines(text)) {
    ++lineNumber;
    std::istringstream in{std::string(line.substr(0, line.find('#')))};
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    if (words.empty()) continue;
    // The key is everything between kind and value: "operator bool" keeps its space.
    RatchetEntry entry{.kind = words.front(), .key = "", .value = 0, .line = lineNumber};
    for (std::size_t i = 1; i + 1 < words.size(); ++i) entry.key += (i > 1 ? " " : "") + words[i];
    const std::string& value = words.back();
    const char* valueEnd = value.data() + value.size();
    const auto [end, error] = std::from_chars(value.data(), valueEnd, entry.value);
    const bool known = entry.kind == "columns" || entry.kind == "function" || entry.kind == "file";
    if (!known || words.size() < 3 || error != std::errc() || end != valueEnd ||
        entry.value <= 0) {
      errors.push_back("line " + std::to_string(lineNumber) + ": expected `columns|function|file "
                       "<key> <positive value>`: " + std::string(line));
      continue;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string formatRatchet(std::vector<Measurement> measured) {
  std::sort(measured.begin(), measured.end(), [](const Measurement& a, const Measurement& b) {
    return std::tie(a.kind, a.key, b.value) < std::tie(b.kind, b.key, a.value);
  });
  std::string out(kRatchetHeader);
  if (measured.empty()) {
    out += "# No exceptions today: every file, function and line is within its limit.\n";
  }
  for (const Measurement& m : measured) {
    out += m.kind + " " + m.key + " " + std::to_string(m.value) + "\n";
  }
  return out;
}

std::vector<Finding> compareRatchet(const std::vector<Measurement>& measured,
                                    const std::vector<RatchetEntry>& ratchet,
                                    std::string_view ratchetPath) {
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::pair<std::vector<const Measurement*>, std::vector<const RatchetEntry*>>> items;
  for (const Measurement& m : measured) items[{m.kind, m.key}].first.push_back(&m);
  for (const RatchetEntry& e : ratchet) items[{e.kind, e.key}].second.push_back(&e);
  std::vector<Finding> findings;
  for (auto& [key, item] : items) {
    auto& [now, listed] = item;
    // Overloads share a key: pair them largest to largest, so order in the file is irrelevant.
    std::sort(now.begin(), now.end(), [](auto* a, auto* b) { return a->value > b->value; });
    std::sort(listed.begin(), listed.end(), [](auto* a, auto* b) { return a->value > b->value; });
    for (std::size_t i = 0; i < std::max(now.size(), listed.size()); ++i) {
      compareOne(i < now.size() ? now[i] : nullptr, i < listed.size() ? listed[i] : nullptr,
                 ratchetPath, findings);
    }
  }
  return findings;
}

}  // namespace moonpool::lint
