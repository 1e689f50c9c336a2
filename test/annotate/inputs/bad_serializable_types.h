// Diagnostic input for rule serializable-types.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>
#include "moonpool/task.h"

struct NotAMessage {
  int32_t x;
};

struct [[moonpool::message]] Record {
  int32_t* pointer;
  std::vector<std::set<int32_t>> nested;
  NotAMessage plain;
  long double precise;
};

class [[moonpool::service]] Store {
 public:
  virtual ~Store() = default;
  virtual moonpool::Task<void> save(std::set<int32_t> ids) = 0;
  virtual moonpool::Task<void> fill(std::string& out) = 0;
  virtual moonpool::Task<char32_t> letter() = 0;
};
