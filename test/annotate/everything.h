// A value of roundtrip::Everything (inputs/all_types.h) using every supported type, and a
// field-by-field comparison, shared by the annotate tests that send it through generated code
// (roundtrip_test, remote_test).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "all_types.h"

namespace roundtrip {

inline Everything makeEverything() {
  Everything value{};
  value.scalars = Scalars{.flag = true, .letter = 'x', .tiny = -7, .i8 = -128, .i16 = -30000,
                          .i32 = -2000000000, .i64 = -9000000000000000000LL, .ll = -5,
                          .u8 = 255, .u16 = 65535, .u32 = 4000000000u,
                          .u64 = 18000000000000000000ull, .ull = 7, .f32 = 1.5f,
                          .f64 = -2.25, .color = Color::BLUE_SKY, .legacy = kLegacyB};
  value.text = "hello, capnp";
  value.bytes = {0, 1, 254, 255};
  value.uchars = {9, 8};
  value.raw = {std::byte{0x10}, std::byte{0xff}};
  value.ints = {1, -2, 3};
  value.flags = {true, false, true};
  value.words = {"a", "", "ccc"};
  value.grid = {{1, 2}, {}, {3}};
  value.colors = {Color::kGreen, Color::kRed};
  value.inners = {Inner{"one", Color::kGreen}, Inner{"two", std::nullopt}};
  value.blobs = {{1, 2, 3}, {}};
  value.maybe_int = 42;
  value.maybe_text = std::nullopt;
  value.maybe_inner = Inner{"inner", Color::BLUE_SKY};
  value.nested_optional = std::optional<int64_t>(std::nullopt);
  value.maybe_list = std::vector<std::string>{"x", "y"};
  value.optional_words = {std::nullopt, "w"};
  value.counters = {{"a", 1}, {"b", 2}};
  value.buckets = {{7, {"s", "t"}}, {-1, {}}};
  value.inner_by_id = {{5, Inner{"five", std::nullopt}}};
  value.maybe_by_name = {{"pi", 3.14}, {"none", std::nullopt}};
  value.list_of_maps = {{{"k", "v"}}, {}};
  return value;
}

inline void expectSameInner(const Inner& a, const Inner& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.color, b.color);
}

inline void expectSameScalars(const Scalars& a, const Scalars& b) {
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.letter, b.letter);
  EXPECT_EQ(a.tiny, b.tiny);
  EXPECT_EQ(a.i8, b.i8);
  EXPECT_EQ(a.i16, b.i16);
  EXPECT_EQ(a.i32, b.i32);
  EXPECT_EQ(a.i64, b.i64);
  EXPECT_EQ(a.ll, b.ll);
  EXPECT_EQ(a.u8, b.u8);
  EXPECT_EQ(a.u16, b.u16);
  EXPECT_EQ(a.u32, b.u32);
  EXPECT_EQ(a.u64, b.u64);
  EXPECT_EQ(a.ull, b.ull);
  EXPECT_EQ(a.f32, b.f32);
  EXPECT_EQ(a.f64, b.f64);
  EXPECT_EQ(a.color, b.color);
  EXPECT_EQ(a.legacy, b.legacy);
}

inline void expectSame(const Everything& a, const Everything& b) {
  expectSameScalars(a.scalars, b.scalars);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.uchars, b.uchars);
  EXPECT_TRUE(a.raw == b.raw);
  EXPECT_EQ(a.ints, b.ints);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.words, b.words);
  EXPECT_EQ(a.grid, b.grid);
  EXPECT_EQ(a.colors, b.colors);
  ASSERT_EQ(a.inners.size(), b.inners.size());
  for (size_t i = 0; i < a.inners.size(); ++i) expectSameInner(a.inners[i], b.inners[i]);
  EXPECT_EQ(a.blobs, b.blobs);
  EXPECT_EQ(a.maybe_int, b.maybe_int);
  EXPECT_EQ(a.maybe_text, b.maybe_text);
  ASSERT_EQ(a.maybe_inner.has_value(), b.maybe_inner.has_value());
  if (a.maybe_inner) expectSameInner(*a.maybe_inner, *b.maybe_inner);
  EXPECT_EQ(a.nested_optional, b.nested_optional);
  EXPECT_EQ(a.maybe_list, b.maybe_list);
  EXPECT_EQ(a.optional_words, b.optional_words);
  EXPECT_EQ(a.counters, b.counters);
  EXPECT_EQ(a.buckets, b.buckets);
  ASSERT_EQ(a.inner_by_id.size(), b.inner_by_id.size());
  for (const auto& [id, inner] : a.inner_by_id) expectSameInner(inner, b.inner_by_id.at(id));
  EXPECT_EQ(a.maybe_by_name, b.maybe_by_name);
  EXPECT_EQ(a.list_of_maps, b.list_of_maps);
}

}  // namespace roundtrip
