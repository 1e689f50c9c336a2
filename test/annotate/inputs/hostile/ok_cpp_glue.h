// Must-not-fire input for rule cpp-glue: default member initializers, plain integer fields,
// names that only contain the generated suffixes, const and noexcept methods, methods named
// near the generated members (withOption, serviceName, a Signature with no method under it).
#pragma once
#include <cstdint>

#include "moonpool/task.h"

struct [[moonpool::message]] Settings {
  int32_t value = 7;
  uint32_t flags = 0;
};

struct [[moonpool::message]] ServerInfo {
  Settings settings;
};

class [[moonpool::service]] Echo {
 public:
  virtual ~Echo() = default;
  virtual moonpool::Task<ServerInfo> ping(Settings s) const noexcept = 0;
  virtual moonpool::Task<int32_t> withOption(int32_t level) = 0;
  virtual moonpool::Task<int32_t> serviceName(int32_t level) = 0;
  virtual moonpool::Task<int32_t> PongSignature(int32_t level) = 0;
};
