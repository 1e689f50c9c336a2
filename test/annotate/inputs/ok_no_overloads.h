// Must-not-fire input for rule no-overloads: distinct names, and overloads among private
// actor helpers (not part of the schema).
#pragma once
#include <cstdint>
#include <string>
#include "moonpool/task.h"

class [[moonpool::service]] Lookup {
 public:
  virtual ~Lookup() = default;
  virtual moonpool::Task<std::string> findById(int32_t id) = 0;
  virtual moonpool::Task<std::string> findByName(std::string name) = 0;
};

class [[moonpool::actor]] Cache {
 public:
  moonpool::Task<std::string> find(int32_t id);

 private:
  void evict(int32_t id);
  void evict(std::string name);
};
