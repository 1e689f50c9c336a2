// Rule input (must not fire): [[moonpool::idempotent]] and its portable spelling on methods
// of a service, a const one, one marked in both spellings, next to unmarked methods.
#pragma once
#include <cstdint>
#include <string>
#include "moonpool/task.h"

namespace ok_idempotent {

class [[moonpool::service]] Catalog {
 public:
  virtual ~Catalog() = default;
  [[moonpool::idempotent]] virtual moonpool::Task<std::string> lookup(std::string key) = 0;
  __attribute__((annotate("moonpool::idempotent"))) virtual moonpool::Task<int32_t> size()
      const = 0;
  [[moonpool::idempotent]] __attribute__((annotate("moonpool::idempotent"))) virtual moonpool::
      Task<void> touch() = 0;
  virtual moonpool::Task<void> insert(std::string key) = 0;
};

}  // namespace ok_idempotent
