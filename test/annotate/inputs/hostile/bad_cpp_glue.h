// Hostile input for rule cpp-glue: each declaration compiles, maps to a schema, and would
// give generated C++ that does not compile.
#pragma once
#include <cstdint>

#include "moonpool/task.h"

struct [[moonpool::message]] Built {
  Built() = default;
  int32_t value;
};

struct [[moonpool::message]] Frozen {
  const int32_t value = 0;
  uint32_t flags : 3;
};

struct [[moonpool::message]] Reader {
  int32_t value;
};

class [[moonpool::service]] Echo {
 public:
  virtual ~Echo() = default;
  virtual moonpool::Task<int32_t> ping(Built b) && = 0;
};

struct [[moonpool::message]] EchoServer {
  Frozen frozen;
  Reader reader;
};

class [[moonpool::actor]] Counter {
 public:
  static moonpool::Task<int32_t> zero(EchoServer e);
};

struct [[moonpool::message]] Café {
  int32_t prix;
};

class [[moonpool::service]] Menu {
 public:
  virtual ~Menu() = default;
  virtual moonpool::Task<int32_t> price(Café item) = 0;
};
