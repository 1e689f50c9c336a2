// Wall-clock stopwatch for harness bookkeeping only (runtime/ real layer): report timings and
// wall-time budgets of runners. Never use it in service code or simulated code: simulated
// time comes from TimeProvider. The lint test allows clock reads only in runtime/real.
#pragma once

#include "moonpool/time.h"

namespace moonpool {

class WallTimer {
 public:
  WallTimer();
  // Time since construction or the last restart().
  Duration elapsed() const;
  void restart();

 private:
  std::int64_t startNs_;
};

}  // namespace moonpool
