// Diagnostic input for rule ordinal-pins, in the portable annotate spelling (the attribute
// spelling is checked while parsing: plugin_ordinal.h).
#pragma once
#include <cstdint>
#include "moonpool/task.h"

enum class Mode { kA __attribute__((annotate("moonpool::ordinal", 1))), kB __attribute__((annotate("moonpool::ordinal", 1))) };

struct [[moonpool::message]] Record {
  __attribute__((annotate("moonpool::ordinal", "one"))) int32_t text;
  __attribute__((annotate("moonpool::ordinal", 70000))) int32_t big;
  __attribute__((annotate("moonpool::ordinal", -2))) int32_t negative;
  __attribute__((annotate("moonpool::ordinal", 0), annotate("moonpool::ordinal", 1))) int32_t twice;
  __attribute__((annotate("moonpool::ordinal", 3))) int32_t a;
  __attribute__((annotate("moonpool::ordinal", 3))) int32_t b;
  Mode mode;
};

class [[moonpool::actor]] Worker {
 public:
  moonpool::Task<void> run();

 private:
  __attribute__((annotate("moonpool::ordinal", 1))) moonpool::Task<void> hidden();
};
