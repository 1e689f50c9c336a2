// Recipes as text. Goal: what formatRecipe prints parses back to the same recipe, and every
// malformed text is refused with its byte offset and what was expected there.
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {
namespace {

std::string format(const Recipe& recipe) {
  char text[512];
  const std::size_t needed = formatRecipe(recipe, text, sizeof text);
  EXPECT_LT(needed, sizeof text);
  return text;
}

TEST(RecipeTest, RoundTripsThroughText) {
  Recipe recipe;
  recipe.rootSeed = 18446744073709551615ull;
  recipe.steps[0] = {.count = 0, .seed = 0};
  recipe.steps[1] = {.count = 151, .seed = 0xdeadbeefcafef00dull};
  recipe.steps[2] = {.count = 80, .seed = 1};
  recipe.length = 3;
  const std::string text = format(recipe);
  EXPECT_EQ(text,
            "18446744073709551615 + 0@0000000000000000 -> 151@deadbeefcafef00d -> "
            "80@0000000000000001");
  Recipe parsed;
  char error[160] = {};
  ASSERT_TRUE(parseRecipe(text.c_str(), parsed, error, sizeof error)) << error;
  EXPECT_EQ(parsed.rootSeed, recipe.rootSeed);
  ASSERT_EQ(parsed.length, 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed.steps[i].count, recipe.steps[i].count);
    EXPECT_EQ(parsed.steps[i].seed, recipe.steps[i].seed);
  }
}

TEST(RecipeTest, ARootAloneIsARecipeAndSpacesAreFree) {
  Recipe parsed;
  char error[160] = {};
  ASSERT_TRUE(parseRecipe("  42  ", parsed, error, sizeof error)) << error;
  EXPECT_EQ(parsed.rootSeed, 42u);
  EXPECT_EQ(parsed.length, 0u);
  EXPECT_EQ(format(parsed), "42");
  ASSERT_TRUE(parseRecipe("7+1@A ->2@b", parsed, error, sizeof error)) << error;
  EXPECT_EQ(parsed.length, 2u);
  EXPECT_EQ(parsed.steps[0].seed, 0xAu);
}

TEST(RecipeTest, FormatReportsTheLengthItNeeds) {
  Recipe recipe;
  recipe.rootSeed = 123;
  recipe.steps[0] = {.count = 5, .seed = 6};
  recipe.length = 1;
  char small[8];
  const std::size_t needed = formatRecipe(recipe, small, sizeof small);
  EXPECT_EQ(needed, std::strlen("123 + 5@0000000000000006"));
  EXPECT_EQ(std::string(small), "123 + 5");  // truncated, NUL-terminated
  EXPECT_EQ(formatRecipe(recipe, nullptr, 0), needed);
}

TEST(RecipeTest, MalformedTextIsRefusedWithWhereAndWhy) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"", "bad recipe at byte 0 (''): expected the root seed (decimal)"},
      {"x", "byte 0 ('x'): expected the root seed"},
      {"99999999999999999999", "expected the root seed"},  // overflows 64 bits
      {"7 1@2", "byte 2 ('1@2'): expected '+' after the root seed"},
      {"7 +", "byte 3 (''): expected a draw count"},
      {"7 + 12", "byte 6 (''): expected '@' between a count and a seed"},
      {"7 + 12@", "byte 7 (''): expected a child seed"},
      {"7 + 12@g", "byte 7 ('g'): expected a child seed"},
      {"7 + 12@11111111111111111", "expected a child seed (hexadecimal, at most 16 digits)"},
      {"7 + 1@2 3@4", "byte 8 ('3@4'): expected '->' between steps"},
      {"7 + 1@2 ->", "byte 10 (''): expected a draw count"},
  };
  for (const auto& c : cases) {
    Recipe parsed;
    char error[160] = {};
    EXPECT_FALSE(parseRecipe(c.text, parsed, error, sizeof error)) << c.text;
    EXPECT_NE(std::string(error).find(c.error), std::string::npos)
        << "'" << c.text << "' gave: " << error;
  }
}

TEST(RecipeTest, TooManyStepsAreRefused) {
  std::string text = "1 + 0@1";
  for (std::uint32_t i = 1; i <= kRecipeStepsMax; ++i) text += " -> 0@1";
  Recipe parsed;
  char error[160] = {};
  EXPECT_FALSE(parseRecipe(text.c_str(), parsed, error, sizeof error));
  EXPECT_NE(std::string(error).find("more steps than kRecipeStepsMax"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace moonpool::explorer
