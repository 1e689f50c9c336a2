// Hostile input: a service template. One error, at the class: its members are dependent, so
// neither its destructor nor its Task<T> results are judged (they were, wrongly).
#pragma once
#include <string>

#include "moonpool/task.h"

template <typename T>
class [[moonpool::service]] Store {
 public:
  virtual ~Store() = default;
  virtual moonpool::Task<T> get(std::string key) = 0;
};
