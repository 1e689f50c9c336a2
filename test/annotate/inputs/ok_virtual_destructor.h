// Must-not-fire input for rule virtual-destructor: a public virtual destructor, and an
// actor (exempt) without one.
#pragma once
#include "moonpool/task.h"

class [[moonpool::service]] Pinger {
 public:
  virtual ~Pinger() = default;
  virtual moonpool::Task<void> ping() = 0;
};

class [[moonpool::actor]] Counter {
 public:
  moonpool::Task<void> bump();
};
