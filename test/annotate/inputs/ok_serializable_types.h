// Must-not-fire input for rule serializable-types: const references, byte vectors, nested
// containers and optionals, enums, and nested messages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include "moonpool/task.h"

enum Color { RED, GREEN };

struct [[moonpool::message]] Inner {
  std::optional<std::optional<int64_t>> maybe_maybe;
};

struct [[moonpool::message]] Outer {
  std::vector<std::byte> raw;
  std::vector<unsigned char> raw_too;
  std::vector<std::vector<Inner>> grid;
  std::map<Color, std::optional<Inner>> by_color;
  std::vector<bool> flags;
  long long big;
  unsigned short little;
};

class [[moonpool::service]] Store {
 public:
  virtual ~Store() = default;
  virtual moonpool::Task<Outer> load(const std::string& key, const Inner& hint) = 0;
};
