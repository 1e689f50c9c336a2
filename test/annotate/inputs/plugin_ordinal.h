// Plugin input: [[moonpool::ordinal(N)]] misused in every way the attribute itself checks.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

struct [[moonpool::message]] Record {
  [[moonpool::ordinal]] int32_t none;
  [[moonpool::ordinal(1, 2)]] int32_t two;
  [[moonpool::ordinal("one")]] int32_t text;
  [[moonpool::ordinal(-1)]] int32_t negative;
  [[moonpool::ordinal(70000)]] int32_t big;
  [[moonpool::ordinal(3), moonpool::ordinal(4)]] int32_t twice;
  [[moonpool::ordinal(5)]] void method();
};

struct Plain {
  [[moonpool::ordinal(0)]] int32_t field;
};

[[moonpool::ordinal(0)]] int32_t global;
void function([[moonpool::ordinal(0)]] int32_t parameter);

class [[moonpool::service]] Jobs {
 public:
  virtual ~Jobs() = default;
  [[moonpool::ordinal(0)]] int32_t state;
};
