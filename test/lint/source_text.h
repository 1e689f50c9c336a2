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

// Display columns of one line: UTF-8 continuation bytes do not count.
int columnsOf(std::string_view line);

// Whether `path` starts with one of `prefixes`.
bool hasPrefix(std::string_view path, const std::vector<std::string_view>& prefixes);

}  // namespace moonpool::lint
