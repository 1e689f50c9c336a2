// Source text helpers; see source_text.h.
#include "source_text.h"

#include <algorithm>
#include <cctype>

namespace moonpool::lint {
namespace {

// A raw string delimiter is at most 16 characters ([lex.string]).
constexpr std::size_t kRawDelimiterMax = 16;

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Blanks [from, to) of `out`, keeping newlines so line numbers survive.
void blank(std::string& out, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to && i < out.size(); ++i) {
    if (out[i] != '\n') out[i] = ' ';
  }
}

// Whether the '"' at `quote` opens a raw string: an `R` prefix, itself optionally after an
// encoding prefix (u8, u, U, L), that does not end a longer identifier.
bool opensRawString(std::string_view text, std::size_t quote) {
  if (quote == 0 || text[quote - 1] != 'R') return false;
  std::size_t start = quote - 1;
  if (start >= 2 && text.substr(start - 2, 2) == "u8") {
    start -= 2;
  } else if (start >= 1 && (text[start - 1] == 'u' || text[start - 1] == 'U' ||
                            text[start - 1] == 'L')) {
    start -= 1;
  }
  return start == 0 || !isIdentChar(text[start - 1]);
}

// Whether the '\'' at `pos` separates digits (1'000, 0xFF'FF) rather than opening a literal:
// the token it continues starts with a digit.
bool isDigitSeparator(std::string_view text, std::size_t pos) {
  std::size_t start = pos;
  while (start > 0 && (isIdentChar(text[start - 1]) || text[start - 1] == '\'' ||
                       text[start - 1] == '.')) {
    --start;
  }
  return start < pos && std::isdigit(static_cast<unsigned char>(text[start]));
}

// Skips a raw string whose opening quote is at `quote`; returns the closing quote's offset
// (or text.size() when unterminated).
std::size_t rawStringEnd(std::string_view text, std::size_t quote) {
  const std::size_t paren = text.find('(', quote + 1);
  if (paren == std::string_view::npos || paren - quote - 1 > kRawDelimiterMax) {
    return text.size();
  }
  const std::string closing =
      ")" + std::string(text.substr(quote + 1, paren - quote - 1)) + "\"";
  const std::size_t end = text.find(closing, paren + 1);
  if (end == std::string_view::npos) return text.size();
  return end + closing.size() - 1;
}

// Skips an ordinary string or character literal opened by `quote` at `open`; returns the
// closing quote's offset, or the end of the line when unterminated.
std::size_t quotedEnd(std::string_view text, std::size_t open, char quote) {
  std::size_t i = open + 1;
  while (i < text.size() && text[i] != quote && text[i] != '\n') {
    i += text[i] == '\\' ? 2 : 1;
  }
  return i < text.size() ? i : text.size();
}

}  // namespace

// Blanks preprocessor lines and their continuations: `#define X {` is not a scope, and the
// two arms of an #if must not both count.
std::string blankDirectives(std::string code) {
  bool continued = false;
  for (std::size_t start = 0; start < code.size();) {
    std::size_t end = code.find('\n', start);
    if (end == std::string_view::npos) end = code.size();
    const std::size_t first = code.find_first_not_of(" \t", start);
    if (continued || (first < end && code[first] == '#')) {
      std::string_view line = std::string_view(code).substr(start, end - start);
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
        line.remove_suffix(1);
      }
      continued = line.ends_with('\\');
      std::fill(code.begin() + static_cast<std::ptrdiff_t>(start),
                code.begin() + static_cast<std::ptrdiff_t>(end), ' ');
    }
    start = end + 1;
  }
  return code;
}

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string blankCommentsAndLiterals(std::string_view text) {
  std::string out(text);
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    std::size_t end = i;  // the last character of the comment or literal starting at i
    if (c == '/' && next == '/') {
      end = text.find('\n', i);
      if (end == std::string_view::npos) end = text.size();
      blank(out, i, end);
    } else if (c == '/' && next == '*') {
      const std::size_t close = text.find("*/", i + 2);
      end = close == std::string_view::npos ? text.size() : close + 1;
      blank(out, i, end + 1);
    } else if (c == '"') {
      end = opensRawString(text, i) ? rawStringEnd(text, i) : quotedEnd(text, i, '"');
      blank(out, i + 1, end);
    } else if (c == '\'' && !isDigitSeparator(text, i)) {
      end = quotedEnd(text, i, '\'');
      blank(out, i + 1, end);
    }
    i = end + 1;
  }
  return out;
}

int columnsOf(std::string_view line) {
  int columns = 0;
  for (char c : line) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++columns;
  }
  return columns;
}

bool hasPrefix(std::string_view path, const std::vector<std::string_view>& prefixes) {
  for (std::string_view p : prefixes) {
    if (path.substr(0, p.size()) == p) return true;
  }
  return false;
}

CodeText::CodeText(std::string_view text)
    : code_(blankDirectives(blankCommentsAndLiterals(text))) {
  for (std::size_t i = 0; i < code_.size(); ++i) {
    if (code_[i] == '\n') newlines_.push_back(i);
  }
}

int CodeText::lineAt(std::size_t offset) const {
  return static_cast<int>(std::upper_bound(newlines_.begin(), newlines_.end(), offset) -
                          newlines_.begin()) + 1;
}

}  // namespace moonpool::lint
