// Recipes as text (see explorer.h): "<root> + <count>@<seed> -> <count>@<seed> ...", the root
// seed and counts in decimal, child seeds in hexadecimal (they are hashes, never typed).
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {
namespace {

// Appends with snprintf semantics: `used` keeps counting past `size`.
void append(char* out, std::size_t size, std::size_t& used, const char* format,
            std::uint64_t a, std::uint64_t b = 0) {
  char* at = used < size ? out + used : nullptr;
  const std::size_t room = used < size ? size - used : 0;
  const int n = at == nullptr ? std::snprintf(nullptr, 0, format, a, b)
                              : std::snprintf(at, room, format, a, b);
  if (n > 0) used += static_cast<std::size_t>(n);
}

void fail(char* error, std::size_t size, const char* text, std::size_t offset,
          const char* what) {
  if (error == nullptr || size == 0) return;
  std::snprintf(error, size, "bad recipe at byte %zu ('%.16s'): %s", offset, text + offset, what);
}

void skipSpaces(const char* text, std::size_t& at) {
  while (text[at] == ' ' || text[at] == '\t') ++at;
}

// Reads digits of `base` (10 or 16) into `value`; false on no digit or overflow.
bool readNumber(const char* text, std::size_t& at, unsigned base, std::uint64_t& value) {
  value = 0;
  const std::size_t start = at;
  for (;; ++at) {
    const char c = text[at];
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      break;
    }
    if (value > (UINT64_MAX - digit) / base) return false;
    value = value * base + digit;
  }
  return at > start;
}

bool readStep(const char* text, std::size_t& at, RecipeStep& step, char* error,
              std::size_t size) {
  skipSpaces(text, at);
  if (!readNumber(text, at, 10, step.count)) {
    fail(error, size, text, at, "expected a draw count (decimal)");
    return false;
  }
  if (text[at] != '@') {
    fail(error, size, text, at, "expected '@' between a count and a seed");
    return false;
  }
  ++at;
  if (!readNumber(text, at, 16, step.seed)) {
    fail(error, size, text, at, "expected a child seed (hexadecimal, at most 16 digits)");
    return false;
  }
  return true;
}

}  // namespace

std::size_t formatRecipe(const Recipe& recipe, char* out, std::size_t size) {
  if (out != nullptr && size > 0) out[0] = '\0';
  std::size_t used = 0;
  append(out, size, used, "%" PRIu64, recipe.rootSeed);
  const std::uint32_t length = recipe.length < kRecipeStepsMax ? recipe.length : kRecipeStepsMax;
  for (std::uint32_t i = 0; i < length; ++i) {
    append(out, size, used, i == 0 ? " + %" PRIu64 "@%016" PRIx64 : " -> %" PRIu64 "@%016" PRIx64,
           recipe.steps[i].count, recipe.steps[i].seed);
  }
  return used;
}

bool parseRecipe(const char* text, Recipe& out, char* error, std::size_t size) {
  out = Recipe{};
  if (text == nullptr) {
    fail(error, size, "", 0, "no text");
    return false;
  }
  std::size_t at = 0;
  skipSpaces(text, at);
  if (!readNumber(text, at, 10, out.rootSeed)) {
    fail(error, size, text, at, "expected the root seed (decimal)");
    return false;
  }
  skipSpaces(text, at);
  if (text[at] == '\0') return true;
  if (text[at] != '+') {
    fail(error, size, text, at, "expected '+' after the root seed");
    return false;
  }
  ++at;
  for (;;) {
    if (out.length == kRecipeStepsMax) {
      fail(error, size, text, at, "more steps than kRecipeStepsMax");
      return false;
    }
    if (!readStep(text, at, out.steps[out.length], error, size)) return false;
    ++out.length;
    skipSpaces(text, at);
    if (text[at] == '\0') return true;
    if (std::strncmp(text + at, "->", 2) != 0) {
      fail(error, size, text, at, "expected '->' between steps");
      return false;
    }
    at += 2;
  }
}

}  // namespace moonpool::explorer
