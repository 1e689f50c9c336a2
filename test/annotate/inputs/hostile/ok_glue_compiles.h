// Hostile input that must work: a service with no methods, an empty enum, and default
// arguments, which the generated clients repeat (C++ takes them from the static type).
#pragma once
#include <cstdint>
#include <string>

#include "moonpool/task.h"

namespace hostile {

enum class Nothing : uint8_t {};

struct [[moonpool::message]] Holder {
  Nothing nothing;
  int32_t value = 0;
};

class [[moonpool::service]] Idle {
 public:
  virtual ~Idle() = default;
};

class [[moonpool::service]] Scanner {
 public:
  virtual ~Scanner() = default;
  static constexpr int32_t kLimit = 10;
  virtual moonpool::Task<int32_t> scan(std::string prefix, int32_t limit = kLimit,
                                       bool reverse = false) = 0;
  virtual moonpool::Task<Holder> hold(Holder holder) = 0;
};

}  // namespace hostile
