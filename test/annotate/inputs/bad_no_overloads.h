// Diagnostic input for rule no-overloads.
#pragma once
#include <cstdint>
#include <string>
#include "moonpool/task.h"

class [[moonpool::service]] Lookup {
 public:
  virtual ~Lookup() = default;
  virtual moonpool::Task<std::string> find(int32_t id) = 0;
  virtual moonpool::Task<std::string> find(std::string name) = 0;
};
