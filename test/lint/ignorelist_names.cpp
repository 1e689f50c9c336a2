// The names the coverage ignorelist must exclude; see ignorelist_names.h.
#include "ignorelist_names.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "function_scanner.h"
#include "source_text.h"

namespace moonpool::lint {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool startsWithWord(std::string_view s, std::string_view word) {
  return s.starts_with(word) &&
         (s.size() == word.size() ||
          !(std::isalnum(static_cast<unsigned char>(s[word.size()])) || s[word.size()] == '_'));
}

// `head` without access labels and `template <...>` prefixes (an explicit instantiation's
// bare `template` too).
std::string_view declarationCore(std::string_view head) {
  static const std::regex kLabel(R"(^\s*(public|private|protected)\s*:(?!:))");
  while (true) {
    head = trim(head);
    std::match_results<std::string_view::const_iterator> label;
    if (std::regex_search(head.begin(), head.end(), label, kLabel)) {
      head.remove_prefix(static_cast<std::size_t>(label.length(0)));
    } else if (startsWithWord(head, "template")) {
      const std::string_view rest = trim(head.substr(8));
      const std::size_t close = rest.starts_with('<') ? closingBracket(rest, 0) : kNone;
      head = rest.starts_with('<') ? (close == kNone ? "" : rest.substr(close + 1)) : rest;
    } else {
      return head;
    }
  }
}

struct ClassHead {
  std::string name;
  NameKind kind = NameKind::kClass;
  std::string_view after;  // what follows the name
};

// `class X`, `struct [[attr]] X final : Base`, `enum class X : int`, `extern template class X<T>`.
bool parseClassHead(std::string_view core, ClassHead& out) {
  static const std::regex kHead(
      R"(^(?:extern\s+template\s+)?(class|struct|union|enum(?:\s+(?:class|struct))?)\s+)"
      R"((?:\[\[[^\]]*\]\]\s*|alignas\s*\([^)]*\)\s*)*([A-Za-z_]\w*)\b)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(core.begin(), core.end(), m, kHead)) return false;
  out.name = m[2].str();
  out.kind = m[1].str().starts_with("enum") ? NameKind::kEnum : NameKind::kClass;
  out.after = trim(core.substr(static_cast<std::size_t>(m.length(0))));
  return out.name != "final";
}

// A reportable function name: unqualified, no operator, no macro invocation.
bool plainName(const std::string& name) {
  return !name.empty() && name.find("::") == std::string::npos &&
         name.find('(') == std::string::npos && !name.starts_with("operator");
}

// Whether `core` holds a `=` outside every bracket: a variable's initializer.
bool hasTopLevelAssign(std::string_view core) {
  int depth = 0;
  for (char c : core) {
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '}' || c == '>') --depth;
    if (c == '=' && depth == 0) return true;
  }
  return false;
}

// `extern "C" {`: what it holds has C linkage (or, for "C++", is hidden all the same).
bool isLinkageBlock(std::string_view core) {
  if (!startsWithWord(core, "extern")) return false;
  const std::string_view rest = trim(core.substr(6));
  const std::size_t quote = rest.starts_with('"') ? rest.find('"', 1) : kNone;
  return quote != kNone && trim(rest.substr(quote + 1)).empty();
}

enum class ScopeKind { kNamespace, kClass, kHidden };

struct Scope {
  ScopeKind kind;
  std::string name;  // a namespace's ("moonpool::internal" when opened so)
};

class NameScanner {
 public:
  explicit NameScanner(std::string_view text) : text_(text), code_(text_.code()) {}

  ScanResult run() {
    std::size_t head = 0;
    int parens = 0;
    for (std::size_t i = 0; i < code_.size(); ++i) {
      const char c = code_[i];
      if (c == '(') ++parens;
      if (c == ')') --parens;
      if (c == ';' && parens <= 0) {
        declaration(head, i);
        head = i + 1;
      } else if (c == '}') {
        if (!scopes_.empty()) scopes_.pop_back();
        head = i + 1;
        parens = 0;
      } else if (c == '{') {
        i = openBrace(head, i, parens > 0);
        if (i == kNone) break;
      }
    }
    return std::move(result_);
  }

 private:
  // Handles the `{` at `open`; returns the offset to go on from (the `{` itself when a scope
  // was pushed, else the matching `}`), and moves `head` past a finished declaration.
  std::size_t openBrace(std::size_t& head, std::size_t open, bool inParens) {
    std::string_view core = declarationCore(std::string_view(code_).substr(head, open - head));
    const std::size_t close = closingBracket(code_, open);
    if (startsWithWord(core, "inline") && startsWithWord(trim(core.substr(6)), "namespace")) {
      core = trim(core.substr(6));
    }
    if (!inParens && startsWithWord(core, "namespace")) {
      const std::string name(trim(core.substr(9)));
      scopes_.push_back({ScopeKind::kNamespace, name.empty() ? "(anonymous)" : name});
      noteChild();
    } else if (!inParens && isLinkageBlock(core)) {
      scopes_.push_back({ScopeKind::kHidden, ""});
    } else if (const std::string fn = inParens ? "" : functionNameOfHead(core); !fn.empty()) {
      noteFunction(core, fn, lineAt(offsetOf(core)));
      head = close + 1;
      return close;
    } else if (ClassHead cls; !inParens && parseClassHead(core, cls) &&
                              (cls.after.empty() || cls.after.starts_with(':') ||
                               cls.after.starts_with('<') || startsWithWord(cls.after, "final"))) {
      if (atMoonpool()) result_.names.push_back({cls.name, cls.kind, lineAt(offsetOf(core))});
      if (cls.kind == NameKind::kEnum) {
        head = close + 1;
        return close;
      }
      scopes_.push_back({ScopeKind::kClass, ""});
    } else {
      return close;  // an initializer or a requires-expression: the declaration goes on
    }
    head = open + 1;
    return open;
  }

  // A declaration ending at the `;` at `end`.
  void declaration(std::size_t head, std::size_t end) {
    std::string_view core = declarationCore(std::string_view(code_).substr(head, end - head));
    if (core.empty()) return;
    static const std::regex kDeleted(R"(=\s*(delete|default|0)\s*$)");
    std::match_results<std::string_view::const_iterator> deleted;
    if (std::regex_search(core.begin(), core.end(), deleted, kDeleted)) {
      core = trim(core.substr(0, static_cast<std::size_t>(deleted.position(0))));
    }
    const int line = lineAt(offsetOf(core));
    for (std::string_view skip : {"using", "typedef", "static_assert", "concept", "namespace"}) {
      if (startsWithWord(core, skip)) return;
    }
    if (ClassHead cls; parseClassHead(core, cls) &&
                       (cls.after.empty() || cls.after.starts_with('<') ||
                        (cls.kind == NameKind::kEnum && cls.after.starts_with(':')))) {
      const NameKind kind = cls.kind == NameKind::kEnum ? cls.kind : NameKind::kClassDecl;
      if (atMoonpool()) result_.names.push_back({cls.name, kind, line});
      return;
    }
    if (hasTopLevelAssign(core)) return;
    noteFunction(core, functionNameOfHead(core), line);
  }

  // A function `name` declared by `core`: reported at moonpool scope, or as a hidden friend of
  // a class there.
  void noteFunction(std::string_view core, const std::string& name, int line) {
    if (!plainName(name)) return;
    const bool isFriend = startsWithWord(core, "friend");
    if (isFriend ? inMoonpoolClass() : atMoonpool()) {
      result_.names.push_back({name, NameKind::kFunction, line});
    }
  }

  // The enclosing namespaces, joined, when only namespaces enclose (else "-").
  std::string namespacePath(std::size_t depth) const {
    std::string path;
    for (std::size_t i = 0; i < depth; ++i) {
      if (scopes_[i].kind != ScopeKind::kNamespace) return "-";
      path += (path.empty() ? "" : "::") + scopes_[i].name;
    }
    return path;
  }

  bool atMoonpool() const { return namespacePath(scopes_.size()) == "moonpool"; }

  // Inside classes (one or more) that are declared at exactly moonpool scope.
  bool inMoonpoolClass() const {
    std::size_t classes = 0;
    while (classes < scopes_.size() &&
           scopes_[scopes_.size() - 1 - classes].kind == ScopeKind::kClass) {
      ++classes;
    }
    return classes > 0 && namespacePath(scopes_.size() - classes) == "moonpool";
  }

  void noteChild() {
    const std::string path = namespacePath(scopes_.size());
    if (!path.starts_with("moonpool::")) return;
    const std::string rest = path.substr(10);
    result_.children.insert(rest.substr(0, rest.find("::")));
  }

  std::size_t offsetOf(std::string_view part) const {
    return static_cast<std::size_t>(part.data() - code_.data());
  }

  int lineAt(std::size_t offset) const { return text_.lineAt(offset); }

  const CodeText text_;
  const std::string& code_;
  std::vector<Scope> scopes_;
  ScanResult result_;
};

}  // namespace

ScanResult scanMoonpoolNames(std::string_view text) { return NameScanner(text).run(); }

std::vector<ListedName> parseIgnorelist(std::string_view list, std::vector<std::string>& errors) {
  static const std::regex kEntry(
      R"(^fun:_Z\{,Z\}N\{,K,R,O,KR,KO\}8moonpool([0-9]+)([A-Za-z_][A-Za-z0-9_]*)\*$)");
  static const std::regex kMentions(R"(8moonpool[0-9])");
  std::vector<ListedName> names;
  int number = 0;
  for (std::string_view raw : splitLines(list)) {
    ++number;
    const std::string line(trim(raw));
    if (line.starts_with('#') || !std::regex_search(line, kMentions)) continue;
    std::smatch m;
    if (std::regex_match(line, m, kEntry) &&
        std::stoul(m[1].str()) == static_cast<std::size_t>(m[2].length())) {
      names.push_back({m[2].str(), number});
    } else {
      errors.push_back(std::to_string(number) + ": `" + line +
                       "` is not fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool<length><Name>*");
    }
  }
  return names;
}

}  // namespace moonpool::lint
