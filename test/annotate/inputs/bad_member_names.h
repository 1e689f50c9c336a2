// Diagnostic input for rule member-names.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

enum class Mode { VOID, FAST };

struct [[moonpool::message]] Profile {
  int32_t user_id;
  int32_t userId;
  Mode mode;
};

class [[moonpool::service]] Registry {
 public:
  virtual ~Registry() = default;
  virtual moonpool::Task<void> import(Profile profile) = 0;
  virtual moonpool::Task<void> add(int32_t) = 0;
  virtual moonpool::Task<void> operator()(int32_t value) = 0;
};
