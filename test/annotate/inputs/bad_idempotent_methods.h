// Rule input: __attribute__((annotate("moonpool::idempotent"))), the portable spelling of
// [[moonpool::idempotent]], everywhere it does nothing or is malformed.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

struct __attribute__((annotate("moonpool::idempotent"))) NotAMethod {};

struct [[moonpool::message]] Record {
  __attribute__((annotate("moonpool::idempotent"))) int32_t field;
};

__attribute__((annotate("moonpool::idempotent"))) moonpool::Task<int32_t> freeFunction();

class [[moonpool::actor]] Account {
 public:
  __attribute__((annotate("moonpool::idempotent"))) moonpool::Task<int64_t> balance();
};

struct Plain {
  __attribute__((annotate("moonpool::idempotent"))) void method();
};

class [[moonpool::service]] Jobs {
 public:
  __attribute__((annotate("moonpool::idempotent"))) virtual ~Jobs() = default;
  __attribute__((annotate("moonpool::idempotent", 1))) virtual moonpool::Task<int32_t> count() = 0;
  virtual moonpool::Task<void> run(__attribute__((annotate("moonpool::idempotent"))) int32_t id) = 0;
};

enum class Level { kLow __attribute__((annotate("moonpool::idempotent"))), kHigh };
