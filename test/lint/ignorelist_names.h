// The names instrument/coverage_ignorelist.txt must exclude one by one (test/, no layer).
//
// The list keeps moonpool runtime header code out of users' SanitizerCoverage edge maps. It
// cannot exclude `moonpool::*` (users write moonpool::kv), so it names the runtime's
// sub-namespaces, its operators, and each name a public runtime header declares directly in
// namespace moonpool, as `fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool<length><Name>*`.
//
// scanMoonpoolNames is a heuristic scanner over blanked code (comments, literals and directives
// hidden), not a parser. It walks namespace and class braces and reports the declarations at
// the scope of exactly `namespace moonpool`: classes, structs, unions and enums (defined or
// only declared), functions and function templates (declared or defined), and hidden friend
// functions of classes in that scope (they are namespace members too). Aliases, variables,
// concepts, static_asserts, using-declarations, qualified (out-of-line) definitions and
// operators are not reported. An `extern "C" {` block hides what it holds.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace moonpool::lint {

enum class NameKind {
  kClass,       // class, struct or union with a body
  kClassDecl,   // class, struct or union declared without a body here
  kEnum,        // an enumeration: it has no functions, so no code to exclude
  kFunction,    // a function or function template, declared or defined
};

struct DirectName {
  std::string name;
  NameKind kind = NameKind::kFunction;
  int line = 0;
};

struct ScanResult {
  std::vector<DirectName> names;   // in order of appearance
  std::set<std::string> children;  // namespaces opened directly in moonpool ("internal", ...)
};

ScanResult scanMoonpoolNames(std::string_view text);

// One per-name entry of the ignorelist: `fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool<len><name>*`.
struct ListedName {
  std::string name;
  int line = 0;
};

// The per-name entries of `list`; `errors` gets each line that mentions `8moonpool<digit>`
// in another form (a partial prefix, a wrong length, no trailing `*`), with its line number.
std::vector<ListedName> parseIgnorelist(std::string_view list, std::vector<std::string>& errors);

}  // namespace moonpool::lint
