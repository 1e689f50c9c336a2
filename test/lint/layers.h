// The layer include graph (test/, no layer): which folder may include which folder's headers.
// The graph itself is data, test/lint/layers.txt; this file parses it and checks one file's
// `#include "moonpool/..."` directives against it. A header belongs to the layer whose
// include/ directory holds it, found in the real tree (indexHeaders), never by name. Pure
// functions over paths and text so planted violations are tested without a filesystem.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lint_rules.h"

namespace moonpool::lint {

struct Layer {
  std::string name;
  std::vector<std::string> prefixes;  // the folders it owns, e.g. "runtime/core/"
  std::set<std::string> allowed;      // layers whose headers it may include
  bool publicOnly = false;            // may not include any .../internal/... header
};

struct LayerTable {
  std::vector<Layer> layers;
  // Known violations still to fix, as (path, header): reported as pending, not as failures,
  // and a failure once they no longer occur (so the set only shrinks).
  std::set<std::pair<std::string, std::string>> pending;

  const Layer* find(std::string_view name) const;
};

// Parses layers.txt (its format is documented at its top). Problems (an unknown directive, an
// unknown layer, a prefix claimed twice) are appended to `errors` as "line N: ...".
LayerTable parseLayers(std::string_view text, std::vector<std::string>& errors);

// The layer owning `path` (the longest matching prefix), or nullptr.
const Layer* layerOf(const LayerTable& table, std::string_view path);

struct HeaderIndex {
  std::map<std::string, std::string, std::less<>> owner;  // "moonpool/task.h" -> "core"
  std::vector<std::string> conflicts;                     // headers two layers both hold
};

// Indexes every path inside a layer's include/ directory:
// "runtime/core/include/moonpool/task.h" becomes "moonpool/task.h", owned by core.
HeaderIndex indexHeaders(const LayerTable& table, const std::vector<std::string>& paths);

// Checks every `#include "moonpool/..."` (or <moonpool/...>) directive of `text`, the file at
// `path`. Rule "layer"; each finding's subject is the included header. A file in no layer is
// itself a finding. Directives inside comments and raw strings do not count.
std::vector<Finding> checkIncludes(const LayerTable& table, const HeaderIndex& headers,
                                   std::string_view path, std::string_view text);

}  // namespace moonpool::lint
