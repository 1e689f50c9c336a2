// Plugin input: [[moonpool::idempotent]] misused in every way the attribute itself checks.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

struct [[moonpool::idempotent]] NotAMethod {};

struct [[moonpool::message]] Record {
  [[moonpool::idempotent]] int32_t field;
};

[[moonpool::idempotent]] moonpool::Task<int32_t> freeFunction();

class [[moonpool::actor]] Account {
 public:
  [[moonpool::idempotent]] moonpool::Task<int64_t> balance();
};

struct Plain {
  [[moonpool::idempotent]] void method();
};

class [[moonpool::service]] Jobs {
 public:
  [[moonpool::idempotent]] Jobs() = default;
  virtual ~Jobs() = default;
  [[moonpool::idempotent(true)]] virtual moonpool::Task<int32_t> count() = 0;
  [[moonpool::idempotent("yes", 2)]] virtual moonpool::Task<void> reset() = 0;
};

void withParameter([[moonpool::idempotent]] int32_t id);
enum class Level { kLow [[moonpool::idempotent]], kHigh };
