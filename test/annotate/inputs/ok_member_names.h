// Must-not-fire input for rule member-names: snake_case and ALL_CAPS names convert to
// distinct camelCase schema names.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

enum class Mode { SLOW_START, FAST };

struct [[moonpool::message]] Profile {
  int32_t user_id;
  int32_t group_id;
  Mode mode;
};

class [[moonpool::service]] Registry {
 public:
  virtual ~Registry() = default;
  virtual moonpool::Task<void> import_profile(Profile profile, int32_t retry_count) = 0;
};
