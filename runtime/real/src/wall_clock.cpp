// The one place outside the production executor that reads a clock (see wall_clock.h).
#include "moonpool/real/wall_clock.h"

#include <chrono>

namespace moonpool {

namespace {
std::int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

WallTimer::WallTimer() : startNs_(monotonicNs()) {}
Duration WallTimer::elapsed() const { return Duration(monotonicNs() - startNs_); }
void WallTimer::restart() { startNs_ = monotonicNs(); }

}  // namespace moonpool
