// Diagnostic input for rule pure-virtual-methods.
#pragma once
#include "moonpool/task.h"

class [[moonpool::service]] Clock {
 public:
  virtual ~Clock() = default;
  virtual moonpool::Task<void> withBody() { co_return; }
  moonpool::Task<void> nonVirtual();
  static moonpool::Task<void> staticMethod();

 protected:
  virtual moonpool::Task<void> hidden() = 0;
};
