// Must-not-fire input for rule ordinal-pins: pins in every position, both spellings.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

enum class Mode { kA [[moonpool::ordinal(1)]], kB [[moonpool::ordinal(0)]], kC };

struct [[moonpool::message]] Record {
  [[moonpool::ordinal(2)]] int32_t first;
  __attribute__((annotate("moonpool::ordinal", 0))) int32_t second;
  int32_t third;
  Mode mode;
};

class [[moonpool::service]] Jobs {
 public:
  virtual ~Jobs() = default;
  [[moonpool::ordinal(1)]] virtual moonpool::Task<void> start(Record record) = 0;
  virtual moonpool::Task<void> stop() = 0;
};

class [[moonpool::actor]] Worker {
 public:
  [[moonpool::ordinal(0)]] moonpool::Task<void> run();
  moonpool::Task<void> pause();
};
