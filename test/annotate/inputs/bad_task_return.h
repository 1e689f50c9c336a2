// Diagnostic input for rule task-return.
#pragma once
#include <string>
#include "moonpool/task.h"

class [[moonpool::service]] Greeter {
 public:
  virtual ~Greeter() = default;
  virtual std::string greet(std::string name) = 0;
};

class [[moonpool::actor]] Player {
 public:
  void move(int x);
};
