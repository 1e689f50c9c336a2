// Small text helpers shared by the runner's renderings (runtime/ runner layer, private).
#pragma once

#include <string>
#include <string_view>

#include "moonpool/time.h"

namespace moonpool::internal {

inline double seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

// Every line of `text` prefixed with `prefix`; the result ends with a newline (empty text
// gives an empty string).
std::string indent(std::string_view text, std::string_view prefix);

// `text` as one /bin/sh word: unchanged when it has only safe characters
// ([A-Za-z0-9_@%+=:,./-]), otherwise single-quoted.
std::string shellQuote(std::string_view text);

}  // namespace moonpool::internal

namespace moonpool::internal {

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (one per bad byte).
std::string validUtf8(std::string_view text);

// `text` as XML 1.0 character data or attribute value: valid UTF-8, the five special
// characters escaped, control characters XML forbids (all below 0x20 but tab, newline and
// carriage return) replaced by U+FFFD.
std::string xmlEscape(std::string_view text);

}  // namespace moonpool::internal
