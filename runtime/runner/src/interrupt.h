// SIGINT and SIGTERM during a run (runtime/ runner layer, private).
//
// A run that installs InterruptHandlers turns the first SIGINT or SIGTERM into a request to
// stop: the handler records the signal, tells the explorer (explorer::interrupt(): no fork
// anywhere any more, a forked timeline kills its children and ends at once, the root kills
// its children and reaps them) and forwards SIGTERM to the run's forked workers. The seed in
// progress ends at the watchdog's next look (runner.h: SeedFailure::kInterrupted, dropped
// from the report), no further seed starts, workers end their share and are reaped, and the
// report covers every seed finished. A second signal while the first is handled ends the
// process at once (exit 130) for a run that does not stop.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace moonpool::internal {

// Installs the handlers for its lifetime (the previous ones are restored), and clears any
// earlier request. One at a time per process.
class InterruptHandlers {
 public:
  InterruptHandlers();
  ~InterruptHandlers();
  InterruptHandlers(const InterruptHandlers&) = delete;
  InterruptHandlers& operator=(const InterruptHandlers&) = delete;
};

// True once a signal asked the run to stop (in the runner, its workers and its timelines).
bool interruptRequested();
// The signal that did (0: none).
int interruptSignal();

// Workers the handler forwards SIGTERM to (the runner's parent only); at most kJobsMax.
void registerWorker(pid_t pid);
void unregisterWorker(pid_t pid);

}  // namespace moonpool::internal
