// Diagnostic input for rule virtual-destructor.
#pragma once
#include "moonpool/task.h"

class [[moonpool::service]] Pinger {
 public:
  virtual moonpool::Task<void> ping() = 0;
};

class [[moonpool::service]] HiddenDestructor {
 public:
  virtual moonpool::Task<void> ping() = 0;

 protected:
  virtual ~HiddenDestructor() = default;
};
