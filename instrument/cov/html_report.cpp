// moonpool-cov: the static HTML report (see reports.h). Plain files, no script, no server:
// index.html lists the files worst-first; files/<path>.html shows the source with each line
// marked, its hits, and the command that first reached it (selectable with one click).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "reports.h"

namespace moonpool::cov {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStyle = R"(<style>
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{padding:1px 8px;text-align:left}th{background:#eee}
.src td{font-family:monospace;vertical-align:top}.src td.code{white-space:pre}
tr.covered td.code{background:#d7f5d7}tr.uncovered td.code{background:#f8d4d4}
tr.partial td.code{background:#fbefc4}td.num{color:#888;text-align:right}
code.cmd{user-select:all;background:#f3f3f3;padding:0 4px;display:inline-block;
max-width:30em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
span.explored{background:#d9d2f7;padding:0 4px;border-radius:3px}
.note{color:#a40}
</style>)";

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string percentCell(const Counts& c) {
  char text[96];
  std::snprintf(text, sizeof text, "<td>%" PRIu64 "/%" PRIu64 "</td><td>%.1f%%</td>", c.covered,
                c.edges, c.percent());
  return text;
}

std::string pageName(const std::string& path) {
  std::string name;
  for (const char c : path) name += (c == '/' || c == ' ') ? '_' : c;
  return name + ".html";
}

llvm::Error writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) {
    return llvm::createStringError(std::errc::io_error, "cannot write %s", path.c_str());
  }
  return llvm::Error::success();
}

std::string lineClass(const LineCoverage* line) {
  if (line == nullptr) return "";
  if (line->counts.covered == 0) return "uncovered";
  return line->counts.covered == line->counts.edges ? "covered" : "partial";
}

// Shown cut to the column, copied whole (one click selects it all; the title shows it all).
std::string commandCode(const std::string& command) {
  return "<code class=\"cmd\" title=\"" + escape(command) + "\">" + escape(command) + "</code>";
}

std::string reachCell(const Model& model, const LineCoverage* line) {
  if (line == nullptr || line->counts.covered == 0) return "<td></td>";
  std::string cell = "<td class=\"reach\">";
  if (line->seedOrigin != 0) {
    cell += commandCode(originCommand(model.recording, line->seedOrigin));
  }
  if (line->exploredOnlyEdges > 0) {
    cell += " <span class=\"explored\">exploration only (" +
            std::to_string(line->exploredOnlyEdges) + " of " +
            std::to_string(line->counts.edges) + " edges)</span> ";
    const std::string command = originCommand(model.recording, line->exploredOrigin);
    cell += command.empty() ? std::string("(recipe not recorded)")
                            : commandCode(command);
  }
  return cell + "</td>";
}

std::string lineRow(const Model& model, std::uint32_t number, const LineCoverage* line,
                    const std::string& text) {
  std::string row = "<tr id=\"L" + std::to_string(number) + "\" class=\"" + lineClass(line) +
                    "\"><td class=\"num\">" + std::to_string(number) + "</td><td class=\"num\">";
  if (line != nullptr) {
    row += std::to_string(line->hits) + "</td><td class=\"num\">" +
           std::to_string(line->counts.covered) + "/" + std::to_string(line->counts.edges);
  } else {
    row += "</td><td class=\"num\">";
  }
  return row + "</td><td class=\"code\">" + escape(text) + "</td>" + reachCell(model, line) +
         "</tr>\n";
}

std::string filePage(const Model& model, const FileCoverage& file, const fs::path& source) {
  std::string page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" +
                     escape(file.path) + "</title>" + kStyle + "</head><body>\n<h1>" +
                     escape(file.path) + "</h1>\n<p><a href=\"../index.html\">index</a> &middot; " +
                     std::to_string(file.counts.covered) + "/" +
                     std::to_string(file.counts.edges) + " edges</p>\n";
  std::vector<std::string> lines;
  std::ifstream in(source);
  for (std::string text; in && std::getline(in, text);) lines.push_back(text);
  if (!in.is_open()) {
    page += "<p class=\"note\">source not found at " + escape(source.string()) +
            " (moved? pass --sources=DIR): lines shown without text</p>\n";
  }
  page += "<table class=\"src\"><tr><th>line</th><th>hits</th><th>edges</th><th>source</th>"
          "<th>first reached by</th></tr>\n";
  if (lines.empty()) {
    for (const auto& [number, line] : file.lines) page += lineRow(model, number, &line, "");
  } else {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto number = static_cast<std::uint32_t>(i + 1);
      const auto found = file.lines.find(number);
      page += lineRow(model, number, found == file.lines.end() ? nullptr : &found->second,
                      lines[i]);
    }
  }
  return page + "</table></body></html>\n";
}

std::string indexPage(const Model& model) {
  const Recording& r = model.recording;
  std::string page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>coverage: " +
                     escape(r.object) + "</title>" + kStyle + "</head><body>\n<h1>" +
                     escape(r.object) + ": " + std::to_string(model.total.covered) + "/" +
                     std::to_string(model.total.edges) + " edges</h1>\n<p>mode " +
                     escape(r.mode) + ", " + std::to_string(r.timelines) + " timelines (" +
                     std::to_string(r.forkedTimelines) + " explored), source root " +
                     escape(model.sourceRoot) + "</p>\n";
  for (const std::string& note : model.notes) {
    page += "<p class=\"note\">" + escape(note) + "</p>\n";
  }
  page += "<table><tr><th>file</th><th>edges</th><th>%</th><th>functions</th></tr>\n";
  std::vector<const FileCoverage*> files;
  for (const auto& [path, file] : model.files) files.push_back(&file);
  std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) {
    if (a->counts.percent() != b->counts.percent()) {
      return a->counts.percent() < b->counts.percent();
    }
    return a->path < b->path;
  });
  for (const FileCoverage* file : files) {
    std::uint64_t reached = 0;
    for (const auto& [name, function] : file->functions) reached += function.counts.covered > 0;
    page += "<tr><td><a href=\"files/" + escape(pageName(file->path)) + "\">" +
            escape(file->path) + "</a></td>" + percentCell(file->counts) + "<td>" +
            std::to_string(reached) + "/" + std::to_string(file->functions.size()) +
            "</td></tr>\n";
  }
  return page + "</table></body></html>\n";
}

}  // namespace

llvm::Error writeHtml(const Model& model, const std::string& outDir,
                      const std::string& sourcesDir, std::string& indexPath) {
  std::error_code error;
  fs::create_directories(fs::path(outDir) / "files", error);
  if (error) {
    return llvm::createStringError(error, "cannot create %s: %s", outDir.c_str(),
                                   error.message().c_str());
  }
  const fs::path sources = sourcesDir.empty() ? fs::path(model.sourceRoot) : fs::path(sourcesDir);
  for (const auto& [path, file] : model.files) {
    const fs::path page = fs::path(outDir) / "files" / pageName(path);
    if (llvm::Error e = writeText(page, filePage(model, file, sources / path))) return e;
  }
  indexPath = (fs::absolute(outDir) / "index.html").lexically_normal().string();
  return writeText(indexPath, indexPage(model));
}

}  // namespace moonpool::cov
