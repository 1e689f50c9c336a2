// Must-not-fire input for rule pure-virtual-methods: pure virtual service methods, and
// non-virtual actor methods (actors are exempt).
#pragma once
#include "moonpool/task.h"

class [[moonpool::service]] Clock {
 public:
  virtual ~Clock() = default;
  virtual moonpool::Task<void> tick() = 0;
};

class [[moonpool::actor]] Timer {
 public:
  moonpool::Task<void> start();

 private:
  static int helperIsIgnoredWhenPrivate();
};
