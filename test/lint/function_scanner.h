// A heuristic function finder for the function-length limit (test/, no layer; STYLE.md rule
// 15). Not a parser: it blanks comments, literals and preprocessor lines, then walks braces.
// A `{` at namespace or class scope opens a function body when the code before it ends a
// parameter list: `)` optionally followed by const, noexcept(...), override, final, mutable,
// `&`, `-> type`, a requires-clause, or a constructor's member-initializer list. Any other `{`
// there opens a class, namespace or extern block (scanned inside) or an initializer or enum
// body (skipped). Everything inside a body, lambdas and nested blocks included, belongs to it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moonpool::lint {

struct FunctionSpan {
  // Qualified by enclosing classes ("Outer::method"); out-of-line definitions keep their own
  // qualification ("Foo::bar"); TEST-like macros keep their arguments ("TEST(Suite,Name)");
  // a lambda at namespace scope takes the variable it initializes, or "lambda".
  std::string name;
  int firstLine = 0;  // the signature's first line (a template<> line included)
  int lastLine = 0;   // the closing brace's line

  int lines() const { return lastLine - firstLine + 1; }
};

std::vector<FunctionSpan> findFunctions(std::string_view text);

// The name findFunctions gives a body that follows `head` (blanked code: one declaration up to
// its `{`), unqualified by enclosing classes; "" when `head` ends no parameter list.
std::string functionNameOfHead(std::string_view head);

// The offset of the bracket closing the one at `open` in `s` (blanked code); npos if unmatched.
std::size_t closingBracket(std::string_view s, std::size_t open);

}  // namespace moonpool::lint
