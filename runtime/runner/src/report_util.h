// Small text helpers shared by the runner's renderings (runtime/ runner layer, private).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

namespace moonpool::internal {

// A bit set of a report (RunReport::exploredMap, coveredEdges) as JSON text: standard base64
// (RFC 4648, padded) of its bytes. 4 * ceil(bytes / 3) characters.
std::string encodeBitSet(const std::vector<std::uint8_t>& bytes);
// The bytes of encodeBitSet's text, or nullopt when `text` is not padded base64 (a bad
// character, a length not a multiple of 4, padding inside).
std::optional<std::vector<std::uint8_t>> decodeBitSet(std::string_view text);
// The bits set.
std::uint64_t bitCount(const std::vector<std::uint8_t>& bytes);

}  // namespace moonpool::internal
