// A heuristic function finder; see function_scanner.h.
#include "function_scanner.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include "source_text.h"

namespace moonpool::lint {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// Words that may follow a parameter list before the body.
constexpr std::array<std::string_view, 9> kQualifiers = {
    "const", "volatile", "noexcept", "override", "final", "mutable", "constexpr", "consteval",
    "try"};

// Words that precede a parenthesis without naming a function.
constexpr std::array<std::string_view, 12> kNotNames = {
    "if",     "for",      "while",    "switch",  "catch",   "requires",
    "return", "sizeof",   "decltype", "alignas", "noexcept", "static_assert"};

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

std::string withoutSpaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

std::string collapseSpaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  return std::string(trimRight(out));
}

bool endsWithWord(std::string_view s, std::string_view word) {
  return s.ends_with(word) &&
         (s.size() == word.size() || !isIdentChar(s[s.size() - word.size() - 1]));
}

// The offset of the bracket closing the one at `open`, searching forward; kNone if unmatched.
std::size_t matchingClose(std::string_view s, std::size_t open) {
  const char opener = s[open];
  const char closer = opener == '{' ? '}' : opener == '(' ? ')' : opener == '[' ? ']' : '>';
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == opener) ++depth;
    if (s[i] == closer && --depth == 0) return i;
  }
  return kNone;
}

// The offset of the bracket opening the one at `close`, searching backward; kNone if unmatched.
std::size_t matchingOpen(std::string_view s, std::size_t close) {
  const char closer = s[close];
  const char opener = closer == '}' ? '{' : closer == ')' ? '(' : closer == ']' ? '[' : '<';
  int depth = 0;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (s[i] == closer) ++depth;
    if (s[i] == opener && --depth == 0) return i;
  }
  return kNone;
}

// The last offset of `token` outside every (), [] and {} of `s`; kNone if absent.
std::size_t lastTopLevel(std::string_view s, std::string_view token) {
  std::size_t found = kNone;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(' || s[i] == '[' || s[i] == '{') ++depth;
    if (s[i] == ')' || s[i] == ']' || s[i] == '}') --depth;
    const bool wordToken = isIdentChar(token.front());
    const bool bounded = !wordToken || ((i == 0 || !isIdentChar(s[i - 1])) &&
                                        (i + token.size() >= s.size() ||
                                         !isIdentChar(s[i + token.size()])));
    if (depth == 0 && s.substr(i).starts_with(token) && bounded) found = i;
  }
  return found;
}

// The `(` of the parameter list that `s` ends with, looking past trailing qualifiers,
// attributes and noexcept(...); kNone when `s` does not end a parameter list.
std::size_t paramsBeforeQualifiers(std::string_view s) {
  while (true) {
    s = trimRight(s);
    if (s.empty()) return kNone;
    const auto qualifier = std::find_if(kQualifiers.begin(), kQualifiers.end(),
                                        [&](std::string_view q) { return endsWithWord(s, q); });
    if (qualifier != kQualifiers.end()) {
      s.remove_suffix(qualifier->size());
    } else if (s.back() == '&') {
      s.remove_suffix(1);
    } else if (s.ends_with("]]") && s.rfind("[[") != kNone) {
      s = s.substr(0, s.rfind("[["));
    } else if (s.back() != ')' || matchingOpen(s, s.size() - 1) == kNone) {
      return kNone;
    } else {
      const std::size_t open = matchingOpen(s, s.size() - 1);
      const std::string_view before = trimRight(s.substr(0, open));
      if (!endsWithWord(before, "noexcept") && !endsWithWord(before, "throw")) return open;
      s = before.substr(0, before.size() - (endsWithWord(before, "throw") ? 5 : 8));
    }
  }
}

// The first single ':' outside brackets, if what precedes it ends a parameter list: the start
// of a constructor's member-initializer list. kNone otherwise (a base clause, a label).
std::size_t initListColon(std::string_view head) {
  int depth = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '(' || head[i] == '[' || head[i] == '{') ++depth;
    if (head[i] == ')' || head[i] == ']' || head[i] == '}') --depth;
    if (depth != 0 || head[i] != ':') continue;
    if (i + 1 < head.size() && head[i + 1] == ':') {
      ++i;
      continue;
    }
    if (i > 0 && head[i - 1] == ':') continue;
    return paramsBeforeQualifiers(head.substr(0, i)) == kNone ? kNone : i;
  }
  return kNone;
}

// The `(` opening the parameter list of the function whose body follows `head`, or kNone.
std::size_t paramsOpen(std::string_view head) {
  if (const std::size_t colon = initListColon(head); colon != kNone) {
    return paramsBeforeQualifiers(head.substr(0, colon));
  }
  for (std::size_t cut : {lastTopLevel(head, "->"), lastTopLevel(head, "requires"), head.size()}) {
    if (cut == kNone) continue;
    if (const std::size_t open = paramsBeforeQualifiers(head.substr(0, cut)); open != kNone) {
      return open;
    }
  }
  return kNone;
}

// The (possibly qualified) name ending `s`: "Foo::bar", "~Foo", "Foo<T>::bar" as "Foo::bar".
std::string qualifiedNameAtEnd(std::string_view s) {
  std::string name;
  std::size_t i = s.size();
  while (i > 0) {
    const char c = s[i - 1];
    if (isIdentChar(c) || c == ':' || c == '~') {
      name.insert(name.begin(), c);
      --i;
    } else if (c == '>' && name.starts_with("::") && matchingOpen(s, i - 1) != kNone) {
      i = matchingOpen(s, i - 1);
    } else {
      break;
    }
  }
  while (name.starts_with(":")) name.erase(0, 1);
  return name;
}

// operator(), operator==, operator bool: `before` is the head up to the parameter list.
std::string operatorName(std::string_view before) {
  const std::size_t op = lastTopLevel(before, "operator");
  if (op == kNone) return "";
  const std::string_view rest = trimLeft(before.substr(op + 8));
  if (rest != "()" && rest.find_first_of("()") != kNone) return "";
  std::string qualifier = qualifiedNameAtEnd(before.substr(0, op));
  if (!qualifier.empty()) qualifier += "::";
  // Symbols close up ("operator=="); a conversion keeps one space ("operator bool").
  const bool symbol = !rest.empty() && !isIdentChar(rest.front());
  return qualifier + "operator" + (symbol ? withoutSpaces(rest) : " " + collapseSpaces(rest));
}

// A lambda at namespace or class scope is named by the variable it initializes.
std::string lambdaName(std::string_view before) {
  const std::size_t open = matchingOpen(before, before.size() - 1);
  std::string_view pre = trimRight(before.substr(0, open == kNone ? 0 : open));
  if (!pre.ends_with('=')) return "lambda";
  const std::string name = qualifiedNameAtEnd(trimRight(pre.substr(0, pre.size() - 1)));
  return name.empty() ? "lambda" : name;
}

// The function's name from its head and the `(` of its parameter list; "" when the
// parenthesis belongs to a keyword (if, requires, ...), so the block is no function.
std::string functionName(std::string_view head, std::size_t params) {
  const std::string_view before = trimRight(head.substr(0, params));
  if (std::string op = operatorName(before); !op.empty()) return op;
  if (before.ends_with(']')) return lambdaName(before);
  const std::string name = qualifiedNameAtEnd(before);
  if (std::find(kNotNames.begin(), kNotNames.end(), name) != kNotNames.end()) return "";
  static const std::regex kMacro("[A-Z][A-Z0-9_]+");
  if (!std::regex_match(name, kMacro)) return name;
  // TEST(Suite, Name) and the like: the arguments tell the bodies apart.
  const std::size_t close = matchingClose(head, params);
  return name + "(" + withoutSpaces(head.substr(params + 1, close - params - 1)) + ")";
}

enum class BlockKind { kFunction, kDeclarations, kOpaque };

struct Block {
  BlockKind kind = BlockKind::kOpaque;
  std::string name;  // the function's, or the class's (empty for a namespace)
};

// A block that is no function: a class, namespace or extern block holds declarations worth
// scanning; an enum or initializer body does not.
Block nonFunctionBlock(std::string_view head) {
  static const std::regex kKeyword(R"(\b(enum|class|struct|union|namespace|extern)\b)");
  static const std::regex kClassName(
      R"(^\s*(?:\[\[[^\]]*\]\]\s*|alignas\s*\([^)]*\)\s*)*([\w:]+))");
  std::string rest(head);
  if (rest.starts_with("template") && rest.find('<') != std::string::npos) {
    const std::size_t close = matchingClose(rest, rest.find('<'));
    rest = close == kNone ? "" : rest.substr(close + 1);
  }
  std::smatch keyword;
  if (!std::regex_search(rest, keyword, kKeyword) || keyword[1] == "enum") return {};
  if (keyword[1] == "namespace" || keyword[1] == "extern") return {BlockKind::kDeclarations, ""};
  const std::string after = keyword.suffix().str();
  std::smatch name;
  const bool named = std::regex_search(after, name, kClassName) && name[1] != "final";
  return {BlockKind::kDeclarations, named ? name[1].str() : ""};
}

Block classify(std::string_view head) {
  // After a member-initializer list's ':', `member{` and `Base<T>{` open initializers; the
  // body follows a `)` or `}` that closes the last one.
  const std::string_view last = trimRight(head);
  if (initListColon(head) != kNone && !last.ends_with(')') && !last.ends_with('}')) return {};
  if (const std::size_t params = paramsOpen(head); params != kNone) {
    std::string name = functionName(head, params);
    if (name.empty()) return {};
    return {BlockKind::kFunction, std::move(name)};
  }
  return nonFunctionBlock(head);
}

// Skips whitespace and access labels (`public:`) at the start of a declaration's head.
std::size_t declarationStart(std::string_view code, std::size_t from) {
  static const std::regex kLabel(R"(^\s*(public|private|protected)\s*:(?!:))");
  while (true) {
    from = std::min(code.size(), code.find_first_not_of(" \t\r\n", from));
    const std::string rest(code.substr(from, 32));
    std::smatch label;
    if (!std::regex_search(rest, label, kLabel)) return from;
    from += static_cast<std::size_t>(label.length(0));
  }
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text), code_(text_.code()) {}

  std::vector<FunctionSpan> run() {
    std::size_t head = 0;  // where the current declaration's code starts
    for (std::size_t i = 0; i < code_.size(); ++i) {
      if (code_[i] == ';' || code_[i] == '}') {
        if (code_[i] == '}' && !classes_.empty()) classes_.pop_back();
        head = i + 1;
      }
      if (code_[i] != '{') continue;
      const std::size_t start = declarationStart(code_, head);
      const Block block = classify(std::string_view(code_).substr(start, i - start));
      if (block.kind == BlockKind::kDeclarations) {
        classes_.push_back(block.name);
        head = i + 1;
        continue;
      }
      const std::size_t close = matchingClose(code_, i);
      if (close == kNone) break;
      if (block.kind == BlockKind::kFunction) {
        spans_.push_back({qualified(block.name), lineAt(start), lineAt(close)});
        head = close + 1;
      }
      // An opaque block (`= {...}`, `Foo{}` in a default argument, an enum body) keeps the
      // head: the declaration it belongs to goes on.
      i = close;
    }
    return std::move(spans_);
  }

 private:
  int lineAt(std::size_t offset) const { return text_.lineAt(offset); }

  std::string qualified(const std::string& name) const {
    std::string out;
    for (const std::string& cls : classes_) {
      if (!cls.empty()) out += cls + "::";
    }
    return out + name;
  }

  const CodeText text_;
  const std::string& code_;
  std::vector<std::string> classes_;  // enclosing class (or "" namespace) scopes, outermost first
  std::vector<FunctionSpan> spans_;
};

}  // namespace

std::vector<FunctionSpan> findFunctions(std::string_view text) { return Scanner(text).run(); }

std::string functionNameOfHead(std::string_view head) {
  const Block block = classify(head);
  return block.kind == BlockKind::kFunction ? block.name : "";
}

std::size_t closingBracket(std::string_view s, std::size_t open) { return matchingClose(s, open); }

}  // namespace moonpool::lint
