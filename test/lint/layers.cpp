// The layer include graph; see layers.h.
#include "layers.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include "source_text.h"

namespace moonpool::lint {
namespace {

std::vector<std::string> words(std::string_view line) {
  std::istringstream in{std::string(line.substr(0, line.find('#')))};
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

void addLayer(LayerTable& table, const std::vector<std::string>& w,
              std::vector<std::string>& errors, const std::string& where) {
  if (w.size() < 3) return errors.push_back(where + "layer needs a name and a prefix");
  if (table.find(w[1]) != nullptr) return errors.push_back(where + "layer " + w[1] + " twice");
  Layer layer{.name = w[1], .prefixes = {w.begin() + 2, w.end()}, .allowed = {}};
  for (const Layer& other : table.layers) {
    for (const std::string& prefix : other.prefixes) {
      if (std::find(layer.prefixes.begin(), layer.prefixes.end(), prefix) !=
          layer.prefixes.end()) {
        errors.push_back(where + "prefix " + prefix + " claimed twice");
      }
    }
  }
  table.layers.push_back(std::move(layer));
}

// Every name in w[from...] must be a layer declared above; each unknown one is an error.
bool knownLayers(const LayerTable& table, const std::vector<std::string>& w, std::size_t from,
                 std::vector<std::string>& errors, const std::string& where) {
  bool known = true;
  for (std::size_t i = from; i < w.size(); ++i) {
    if (table.find(w[i]) != nullptr) continue;
    errors.push_back(where + "unknown layer " + w[i]);
    known = false;
  }
  return known;
}

// `allow <from> -> <to>...`; several lines for one layer add up.
void addAllow(LayerTable& table, const std::vector<std::string>& w,
              std::vector<std::string>& errors, const std::string& where) {
  if (w.size() < 3 || w[2] != "->") {
    return errors.push_back(where + "expected `allow <from> -> <to>...`");
  }
  const bool fromKnown = knownLayers(table, {w.begin(), w.begin() + 2}, 1, errors, where);
  if (!knownLayers(table, w, 3, errors, where) || !fromKnown) return;
  for (Layer& layer : table.layers) {
    if (layer.name == w[1]) layer.allowed.insert(w.begin() + 3, w.end());
  }
}

// `public-only <name>...`
void addPublicOnly(LayerTable& table, const std::vector<std::string>& w,
                   std::vector<std::string>& errors, const std::string& where) {
  if (!knownLayers(table, w, 1, errors, where)) return;
  for (Layer& layer : table.layers) {
    layer.publicOnly |= std::find(w.begin() + 1, w.end(), layer.name) != w.end();
  }
}

std::string allowedList(const Layer& layer) {
  std::string out;
  for (const std::string& name : layer.allowed) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

// The reason `from` may not include `header` (owned by `to`), or "" when it may.
std::string violation(const Layer& from, const std::string& header, const std::string& to) {
  if (from.publicOnly && header.find("/internal/") != std::string::npos) {
    return from.name + " may not include " + header + " (" + to + "); allowed: " +
           allowedList(from) + ", public headers only";
  }
  if (to == from.name || from.allowed.contains(to)) return "";
  return from.name + " may not include " + header + " (" + to + "); allowed: " +
         allowedList(from);
}

}  // namespace

const Layer* LayerTable::find(std::string_view name) const {
  for (const Layer& layer : layers) {
    if (layer.name == name) return &layer;
  }
  return nullptr;
}

LayerTable parseLayers(std::string_view text, std::vector<std::string>& errors) {
  LayerTable table;
  int lineNumber = 0;
  for (std::string_view line : splitLines(text)) {
    ++lineNumber;
    const std::vector<std::string> w = words(line);
    const std::string where = "line " + std::to_string(lineNumber) + ": ";
    if (w.empty()) continue;
    if (w[0] == "layer") {
      addLayer(table, w, errors, where);
    } else if (w[0] == "allow") {
      addAllow(table, w, errors, where);
    } else if (w[0] == "public-only") {
      addPublicOnly(table, w, errors, where);
    } else if (w[0] == "pending" && w.size() == 3) {
      table.pending.emplace(w[1], w[2]);
    } else {
      errors.push_back(where + "unknown directive: " + std::string(line));
    }
  }
  return table;
}

const Layer* layerOf(const LayerTable& table, std::string_view path) {
  const Layer* best = nullptr;
  std::size_t bestLength = 0;
  for (const Layer& layer : table.layers) {
    for (const std::string& prefix : layer.prefixes) {
      if (path.starts_with(prefix) && prefix.size() > bestLength) {
        best = &layer;
        bestLength = prefix.size();
      }
    }
  }
  return best;
}

HeaderIndex indexHeaders(const LayerTable& table, const std::vector<std::string>& paths) {
  HeaderIndex index;
  for (const std::string& path : paths) {
    const std::size_t at = path.find("include/moonpool/");
    if (at == std::string::npos || (at > 0 && path[at - 1] != '/')) continue;
    const Layer* layer = layerOf(table, path);
    if (layer == nullptr) continue;
    const std::string header = path.substr(at + std::string_view("include/").size());
    const auto [it, inserted] = index.owner.emplace(header, layer->name);
    if (!inserted && it->second != layer->name) index.conflicts.push_back(header);
  }
  return index;
}

std::vector<Finding> checkIncludes(const LayerTable& table, const HeaderIndex& headers,
                                   std::string_view path, std::string_view text) {
  const Layer* from = layerOf(table, path);
  if (from == nullptr) {
    return {{std::string(path), 1, "layer", "the file is in no layer of test/lint/layers.txt", ""}};
  }
  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"](moonpool/[^">]+)[">])");
  const std::string code = blankCommentsAndLiterals(text);
  const std::vector<std::string_view> lines = splitLines(text);
  const std::vector<std::string_view> codeLines = splitLines(code);
  std::vector<Finding> findings;
  for (std::size_t i = 0; i < lines.size() && i < codeLines.size(); ++i) {
    // The '#' must be code: a directive-looking line in a comment or raw string is text.
    const std::size_t hash = codeLines[i].find_first_not_of(" \t");
    if (hash == std::string_view::npos || codeLines[i][hash] != '#') continue;
    std::match_results<std::string_view::const_iterator> match;
    if (!std::regex_search(lines[i].begin(), lines[i].end(), match, kInclude)) continue;
    const std::string header = match[1].str();
    const auto owner = headers.owner.find(header);
    std::string message = owner == headers.owner.end()
                              ? header + " is in no layer's include/ directory"
                              : violation(*from, header, owner->second);
    if (message.empty()) continue;
    findings.push_back({std::string(path), static_cast<int>(i) + 1, "layer",
                        std::move(message), header});
  }
  return findings;
}

}  // namespace moonpool::lint
