// Source text helpers shared by the lint rules (test/, no layer): line splitting, and
// blanking passes that hide comments, literals and preprocessor lines so that brace and
// directive scanners see only code. Pure functions over strings; nothing here reads files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moonpool::lint {

// Splits on '\n'. A last line without a newline counts; an empty text has no lines.
std::vector<std::string_view> splitLines(std::string_view text);

// `text` with every comment and the contents of every string and character literal (raw
// strings included) replaced by spaces. Newlines and the quote characters stay, so offsets
// and line numbers match the original. Digit separators (1'000) are not character literals.
std::string blankCommentsAndLiterals(std::string_view text);

// `code` with preprocessor lines and their continuations blanked: `#define X {` is not a
// scope, and the two arms of an #if must not both count. Run it on blanked text.
std::string blankDirectives(std::string code);

// A file's code as the brace scanners see it (comments, literals and preprocessor lines
// blanked; offsets unchanged), with the offset -> line mapping they report findings by.
class CodeText {
 public:
  explicit CodeText(std::string_view text);

  const std::string& code() const { return code_; }
  // The 1-based line holding `offset`.
  int lineAt(std::size_t offset) const;

 private:
  std::string code_;
  std::vector<std::size_t> newlines_;
};

// Display columns of one line: UTF-8 continuation bytes do not count.
int columnsOf(std::string_view line);

// Whether `path` starts with one of `prefixes`.
bool hasPrefix(std::string_view path, const std::vector<std::string_view>& prefixes);

}  // namespace moonpool::lint
