// moonpool-cov: text summary, sancov-style stats and function lists, diff (see reports.h).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <vector>

#include "reports.h"

namespace moonpool::cov {
namespace {

std::string format(const char* pattern, auto... args) {
  char buffer[1024];
  std::snprintf(buffer, sizeof buffer, pattern, args...);
  return buffer;
}

std::string ratio(const Counts& c) {
  return format("%6" PRIu64 "/%-6" PRIu64 " %5.1f%%", c.covered, c.edges, c.percent());
}

// Worst first: lowest percentage, then most uncovered edges, then name.
template <typename T>
void sortWorstFirst(std::vector<const T*>& items, auto name) {
  std::sort(items.begin(), items.end(), [&](const T* a, const T* b) {
    if (a->counts.percent() != b->counts.percent()) {
      return a->counts.percent() < b->counts.percent();
    }
    const std::uint64_t missA = a->counts.edges - a->counts.covered;
    const std::uint64_t missB = b->counts.edges - b->counts.covered;
    if (missA != missB) return missA > missB;
    return name(*a) < name(*b);
  });
}

// "ns::f(int, long) const (.resume)" -> "ns::f(...) const (.resume)", then the tail that
// fits: the summary is read for the function, not its parameter types.
std::string shortName(const std::string& name, std::size_t width) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    // Kept whole: "(anonymous namespace)" and clang's part suffixes "(.resume)".
    const std::size_t keep = name.compare(i, 21, "(anonymous namespace)") == 0 ? 21
                             : name.compare(i, 2, "(.") == 0 ? name.find(')', i) + 1 - i
                                                              : 0;
    if (depth == 0 && keep > 0) {
      out += name.substr(i, keep);
      i += keep - 1;
      continue;
    }
    const char c = name[i];
    if (c == '(' && depth++ == 0) out += "(...";
    if (c == ')' && --depth == 0) out += ')';
    if (depth == 0 && c != ')') out += c;
  }
  if (out.size() <= width) return out;
  return "..." + out.substr(out.size() - (width - 3));
}

bool contains(const std::string& text, const std::string& part) {
  return part.empty() || text.find(part) != std::string::npos;
}

std::string header(const Model& model) {
  const Recording& r = model.recording;
  std::string out = format("moonpool-cov: %s (%s), %u run(s), %" PRIu64 " timelines (%" PRIu64
                           " explored)\n",
                           r.object.c_str(), r.mode.c_str(), r.runs, r.timelines,
                           r.forkedTimelines);
  out += "binary: " + model.binary + "\nsource root: " + model.sourceRoot + "\n";
  out += format("total: %" PRIu64 "/%" PRIu64 " edges (%.1f%%) in %zu files", model.total.covered,
                model.total.edges, model.total.percent(), model.files.size());
  if (model.edgesLeftOut > 0) {
    out += format("; %" PRIu64 " edges outside the source root left out", model.edgesLeftOut);
  }
  out += "\n";
  for (const std::string& note : model.notes) out += "note: " + note + "\n";
  return out;
}

}  // namespace

std::string textSummary(const Model& model, const TextOptions& options) {
  std::string out = header(model) + "\n" + format("%-60s %22s\n", "file / function", "edges");
  std::vector<const FileCoverage*> files;
  for (const auto& [path, file] : model.files) files.push_back(&file);
  sortWorstFirst(files, [](const FileCoverage& f) { return f.path; });
  for (const FileCoverage* file : files) {
    std::vector<const FunctionCoverage*> functions;
    for (const auto& [name, function] : file->functions) {
      if (function.counts.percent() >= options.minPercent) continue;
      if (!contains(file->path, options.filter) && !contains(name, options.filter)) continue;
      functions.push_back(&function);
    }
    const bool fileShown = file->counts.percent() < options.minPercent &&
                           contains(file->path, options.filter);
    if (!fileShown && functions.empty()) continue;
    out += format("%-60s %22s\n", file->path.c_str(), ratio(file->counts).c_str());
    sortWorstFirst(functions, [](const FunctionCoverage& f) { return f.name; });
    for (const FunctionCoverage* function : functions) {
      const std::string name = shortName(function->name, 56);
      out += format("  %-58s %22s\n", name.c_str(), ratio(function->counts).c_str());
    }
  }
  return out;
}

std::string statsText(const Model& model) {
  std::uint64_t edges = 0, covered = 0, functions = 0, coveredFunctions = 0;
  for (const auto& [isCovered, files] : model.placed) {
    // Once per edge, when one of its files is "live" (sancov skips files without coverage).
    const bool live = std::any_of(files.begin(), files.end(), [&](const std::string& path) {
      return model.files.at(path).counts.covered > 0;
    });
    edges += live;
    covered += live && isCovered;
  }
  for (const auto& [path, file] : model.files) {
    if (file.counts.covered == 0) continue;  // a "dead" file, as sancov skips it
    for (const auto& [name, function] : file.functions) {
      functions += 1;
      coveredFunctions += function.counts.covered > 0;
    }
  }
  return format("all-edges: %" PRIu64 "\ncov-edges: %" PRIu64 "\nall-functions: %" PRIu64
                "\ncov-functions: %" PRIu64 "\n",
                edges, covered, functions, coveredFunctions);
}

std::string functionList(const Model& model, bool covered) {
  std::set<std::string> lines;
  for (const auto& [path, file] : model.files) {
    if (file.counts.covered == 0) continue;  // a "dead" file, as sancov skips it
    for (const auto& [name, function] : file.functions) {
      if ((function.counts.covered > 0) != covered) continue;
      lines.insert(file.absolute + ":" + std::to_string(function.line) + " " + name);
    }
  }
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

std::string diffText(const Model& before, const Model& after) {
  std::string body;
  std::uint64_t gainedLines = 0, gainedEdges = 0, lostLines = 0;
  for (const auto& [path, file] : after.files) {
    const auto old = before.files.find(path);
    std::string section;
    for (const auto& [number, line] : file.lines) {
      std::uint64_t was = 0;
      if (old != before.files.end()) {
        const auto oldLine = old->second.lines.find(number);
        if (oldLine != old->second.lines.end()) was = oldLine->second.counts.covered;
      }
      if (line.counts.covered <= was) continue;
      gainedLines += was == 0;
      gainedEdges += line.counts.covered - was;
      // The explored-only recipe when B has one here: that is what A's run lacked.
      const std::uint32_t origin =
          line.exploredOnlyEdges > 0 ? line.exploredOrigin : line.seedOrigin;
      section += format("  %5u  +%" PRIu64 " edge(s)%s%s  %s\n", number,
                        line.counts.covered - was, was == 0 ? ", new line" : "",
                        line.exploredOnlyEdges > 0 ? ", exploration only" : "",
                        originCommand(after.recording, origin).c_str());
    }
    if (!section.empty()) body += path + "\n" + section;
  }
  for (const auto& [path, file] : before.files) {
    const auto now = after.files.find(path);
    for (const auto& [number, line] : file.lines) {
      if (line.counts.covered == 0) continue;
      const bool kept = now != after.files.end() && now->second.lines.count(number) > 0 &&
                        now->second.lines.at(number).counts.covered > 0;
      lostLines += !kept;
    }
  }
  return format("moonpool-cov diff: B reached %" PRIu64 " edge(s) (%" PRIu64
                " new line(s)) that A did not; A reached %" PRIu64 " line(s) that B did not\n"
                "A: %" PRIu64 "/%" PRIu64 " edges (%.1f%%)  B: %" PRIu64 "/%" PRIu64
                " edges (%.1f%%)\n",
                gainedEdges, gainedLines, lostLines, before.total.covered, before.total.edges,
                before.total.percent(), after.total.covered, after.total.edges,
                after.total.percent()) +
         body;
}

}  // namespace moonpool::cov
