// Diagnostic input for rule no-templates.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

template <typename T>
struct [[moonpool::message]] Box {
  T value;
};

class [[moonpool::service]] Converter {
 public:
  virtual ~Converter() = default;
  template <typename T>
  moonpool::Task<T> convert(T input);
};
