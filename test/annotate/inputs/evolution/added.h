// Evolution input: base.h, edited (members added after the last ones, and a new message).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "moonpool/task.h"

namespace evo {

enum class Color { kRed, kGreen, kBlue, kViolet };

struct [[moonpool::message]] Put {
  std::string key;
  std::string value;
  uint64_t version;
  Color color;
  std::optional<std::string> owner;
};

class [[moonpool::service]] Store {
 public:
  virtual ~Store() = default;
  virtual moonpool::Task<std::optional<std::string>> get(std::string key, bool fresh) = 0;
  virtual moonpool::Task<void> put(Put request, bool sync) = 0;
  virtual moonpool::Task<uint64_t> size() = 0;
  virtual moonpool::Task<void> clear(Color only) = 0;
};

class [[moonpool::actor]] Counter {
 public:
  moonpool::Task<int64_t> add(int64_t amount);
};

struct [[moonpool::message]] Stats {
  uint64_t puts;
};

}  // namespace evo
