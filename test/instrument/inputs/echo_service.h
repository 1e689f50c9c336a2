// Test input: a small annotated service, for the wrapper and moonpool_add_service tests.
#pragma once

#include <cstdint>
#include <string>

#include "moonpool/task.h"

namespace wrapper_demo {

struct [[moonpool::message]] Ping {
  std::string text;
  uint32_t count;
};

class [[moonpool::service]] Echo {
 public:
  virtual ~Echo() = default;
  virtual moonpool::Task<Ping> echo(Ping ping) = 0;
};

}  // namespace wrapper_demo
