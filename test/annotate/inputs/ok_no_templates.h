// Must-not-fire input for rule no-templates: templates that are not annotated are fine.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

template <typename T>
struct Helper {
  T value;
};

class [[moonpool::service]] Converter {
 public:
  virtual ~Converter() = default;
  virtual moonpool::Task<int64_t> convert(int32_t input) = 0;
};
