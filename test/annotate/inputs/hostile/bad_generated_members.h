// Hostile input for rule cpp-glue: service methods named like members the generated server,
// client and remote declare beside the methods.
#pragma once
#include <cstdint>

#include "moonpool/task.h"

class [[moonpool::service]] Tuner {
 public:
  virtual ~Tuner() = default;
  virtual moonpool::Task<int32_t> withOptions(int32_t level) = 0;
  virtual moonpool::Task<int32_t> kServiceName(int32_t level) = 0;
  virtual moonpool::Task<int32_t> tune(int32_t level) = 0;
  virtual moonpool::Task<int32_t> TuneSignature(int32_t level) = 0;
};
