// Evolution input: base.h, edited (a parameter added after the last one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "moonpool/task.h"

namespace evo {

enum class Color { kRed, kGreen, kBlue };

struct [[moonpool::message]] Put {
  std::string key;
  std::string value;
  uint64_t version;
  Color color;
};

class [[moonpool::service]] Store {
 public:
  virtual ~Store() = default;
  virtual moonpool::Task<std::optional<std::string>> get(std::string key, bool fresh) = 0;
  virtual moonpool::Task<void> put(Put request, bool sync) = 0;
  virtual moonpool::Task<uint64_t> size() = 0;
};

class [[moonpool::actor]] Counter {
 public:
  moonpool::Task<int64_t> add(int64_t amount);
};

}  // namespace evo
