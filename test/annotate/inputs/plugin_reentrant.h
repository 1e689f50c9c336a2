// Plugin input: [[moonpool::reentrant]] misused in every way the attribute itself checks.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

struct [[moonpool::reentrant]] NotAnActor {};

class [[moonpool::service]] Jobs {
 public:
  virtual ~Jobs() = default;
  [[moonpool::reentrant]] virtual moonpool::Task<int32_t> count() = 0;
};

[[moonpool::reentrant]] moonpool::Task<int32_t> freeFunction();

class [[moonpool::reentrant, moonpool::actor]] Backwards {};

class [[moonpool::actor]] Counter {
 public:
  [[moonpool::reentrant(1)]] moonpool::Task<int32_t> get();
};
