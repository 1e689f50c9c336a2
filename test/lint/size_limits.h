// Size limits (test/, no layer; STYLE.md rule 15) and the ratchet list of today's exceptions.
//
// Limits: a line is at most kColumnsMax columns, a function at most kFunctionLinesMax lines
// (signature to closing brace, as function_scanner.h finds them), a file at most
// kFileLinesMax lines unless its FIRST line gives the reason in this fixed form:
//   // long file: <one-line reason>
//
// The ratchet list (test/lint/ratchet.txt) records each item over a limit today with its
// measured value. compareRatchet fails an item over a limit that is not listed, a listed item
// that got worse, and a listed entry whose item now meets the limit or is gone, so the list
// only shrinks. Function entries are keyed by file and qualified name, not line, so unrelated
// edits leave them alone; overloads sharing a name are matched largest to largest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lint_rules.h"

namespace moonpool::lint {

inline constexpr int kColumnsMax = 100;
inline constexpr int kFunctionLinesMax = 70;
inline constexpr int kFileLinesMax = 500;
inline constexpr std::string_view kLongFileMarker = "// long file: ";

// Whether the size limits apply to `path`: sources under the project's folders, minus
// generated code (test/annotate/golden/) and deliberately odd inputs (test/annotate/inputs/).
bool inSizeScope(std::string_view path);

// One item over a limit. kind "columns": key is the path, value the number of lines over
// kColumnsMax; "function": key is "path:name", value its lines; "file": key is the path,
// value its lines. `line` is where to look (the first long line, the signature).
struct Measurement {
  std::string kind;
  std::string key;
  int value = 0;
  int line = 0;
};

std::vector<Measurement> measureFile(std::string_view path, std::string_view text);

struct RatchetEntry {
  std::string kind;
  std::string key;
  int value = 0;
  int line = 0;  // in ratchet.txt
};

// Parses "kind key value" lines ('#' starts a comment; the key is every word between kind and
// value); malformed lines go to `errors`.
std::vector<RatchetEntry> parseRatchet(std::string_view text, std::vector<std::string>& errors);

// The whole ratchet.txt for `measured`: the header comment, then entries sorted by kind and key.
std::string formatRatchet(std::vector<Measurement> measured);

// Rule "size" findings; `ratchetPath` names the list in findings about its entries.
std::vector<Finding> compareRatchet(const std::vector<Measurement>& measured,
                                    const std::vector<RatchetEntry>& ratchet,
                                    std::string_view ratchetPath);

}  // namespace moonpool::lint
