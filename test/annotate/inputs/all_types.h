// Round-trip input: one service whose messages, parameters and results use every type
// moonpool-annotate supports, plus an actor (roundtrip_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "moonpool/task.h"

namespace roundtrip {

enum class Color { kRed, kGreen, BLUE_SKY };
enum Legacy { kLegacyA = 5, kLegacyB = 2 };  // unscoped, explicit values

struct [[moonpool::message]] Inner {
  std::string label;
  std::optional<Color> color;
};

struct [[moonpool::message]] Empty {};

struct [[moonpool::message]] Scalars {
  bool flag;
  char letter;
  signed char tiny;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  long long ll;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  unsigned long long ull;
  float f32;
  double f64;
  Color color;
  Legacy legacy;
};

struct [[moonpool::message]] Everything {
  Scalars scalars;
  std::string text;
  std::vector<uint8_t> bytes;
  std::vector<unsigned char> uchars;
  std::vector<std::byte> raw;
  std::vector<int32_t> ints;
  std::vector<bool> flags;
  std::vector<std::string> words;
  std::vector<std::vector<int64_t>> grid;
  std::vector<Color> colors;
  std::vector<Inner> inners;
  std::vector<std::vector<uint8_t>> blobs;
  std::optional<int32_t> maybe_int;
  std::optional<std::string> maybe_text;
  std::optional<Inner> maybe_inner;
  std::optional<std::optional<int64_t>> nested_optional;
  std::optional<std::vector<std::string>> maybe_list;
  std::vector<std::optional<std::string>> optional_words;
  std::map<std::string, uint64_t> counters;
  std::unordered_map<int32_t, std::vector<std::string>> buckets;
  std::map<int64_t, Inner> inner_by_id;
  std::map<std::string, std::optional<double>> maybe_by_name;
  std::vector<std::map<std::string, std::string>> list_of_maps;
  Empty nothing;
};

class [[moonpool::service]] Echo {
 public:
  virtual ~Echo() = default;
  virtual moonpool::Task<Everything> echo(Everything value) = 0;
  // Idempotent (a lookup): EchoRemote resends it after a reconnect (remote_test.cpp).
  [[moonpool::idempotent]] virtual moonpool::Task<std::optional<std::string>> find(
      const std::string& key, Color color) = 0;
  virtual moonpool::Task<std::map<std::string, std::string>> scan(std::string from_key,
                                                                  uint32_t limit) = 0;
  virtual moonpool::Task<std::vector<uint8_t>> bytes(std::vector<uint8_t> data) = 0;
  virtual moonpool::Task<void> fail(int32_t kind) = 0;
  virtual moonpool::Task<> ping() = 0;
  virtual moonpool::Task<Color> next(Color color, Legacy legacy) = 0;
  virtual moonpool::Task<bool> negate(bool value) const = 0;
};

class [[moonpool::actor]] Counter {
 public:
  moonpool::Task<int64_t> add(int64_t amount) {
    total_ += amount;
    co_return total_;
  }
  moonpool::Task<int64_t> total() const { co_return total_; }

 private:
  int64_t total_ = 0;
};

}  // namespace roundtrip
