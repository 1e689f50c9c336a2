// Must-not-fire input for rule task-return: Task<T>, Task<void> and Task<> results, and
// private actor helpers that return anything.
#pragma once
#include <cstdint>
#include <string>
#include "moonpool/task.h"

class [[moonpool::service]] Greeter {
 public:
  virtual ~Greeter() = default;
  virtual moonpool::Task<std::string> greet(std::string name) = 0;
  virtual moonpool::Task<void> wave() = 0;
  virtual moonpool::Task<> bow() = 0;
};

class [[moonpool::actor]] Player {
 public:
  moonpool::Task<int32_t> move(int32_t x);

 private:
  int32_t clamp(int32_t x);
};
