// SIGINT and SIGTERM during a run (see interrupt.h).
#include "interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "moonpool/check.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/runner/runner.h"

namespace moonpool::internal {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

volatile std::sig_atomic_t gSignal = 0;
// The process that installed the handlers: only it forwards to workers.
volatile pid_t gOwner = 0;
std::atomic<pid_t> gWorkers[RunOptions::kJobsMax];
struct sigaction gPrevious[2];
bool gInstalled = false;

static_assert(std::atomic<pid_t>::is_always_lock_free, "read in a signal handler");

void onSignal(int signal) {
  if (gSignal != 0) {
    if (getpid() == gOwner) _exit(RunReport::kExitInterrupted);  // a second signal
    return;
  }
  gSignal = signal;
  explorer::interrupt();  // returns only in the root process (async-signal-safe)
  if (getpid() != gOwner) return;
  for (std::atomic<pid_t>& worker : gWorkers) {
    const pid_t pid = worker.load(std::memory_order_relaxed);
    if (pid > 0) kill(pid, SIGTERM);
  }
}

}  // namespace

InterruptHandlers::InterruptHandlers() {
  MOONPOOL_CHECK(!gInstalled, "interrupt handlers are installed once at a time");
  gSignal = 0;
  gOwner = getpid();
  for (std::atomic<pid_t>& worker : gWorkers) worker.store(0);
  struct sigaction action{};
  action.sa_handler = &onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() and waitpid() return EINTR to look again
  for (std::size_t i = 0; i < 2; ++i) {
    MOONPOOL_CHECK_EQ(sigaction(kSignals[i], &action, &gPrevious[i]), 0, "sigaction failed");
  }
  gInstalled = true;
}

InterruptHandlers::~InterruptHandlers() {
  for (std::size_t i = 0; i < 2; ++i) sigaction(kSignals[i], &gPrevious[i], nullptr);
  gInstalled = false;
}

bool interruptRequested() { return gSignal != 0 || explorer::interrupted(); }

int interruptSignal() { return gSignal; }

void registerWorker(pid_t pid) {
  for (std::atomic<pid_t>& worker : gWorkers) {
    pid_t empty = 0;
    if (worker.compare_exchange_strong(empty, pid)) return;
  }
  MOONPOOL_CHECK(false, "more workers than RunOptions::kJobsMax");
}

void unregisterWorker(pid_t pid) {
  for (std::atomic<pid_t>& worker : gWorkers) {
    pid_t expected = pid;
    if (worker.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace moonpool::internal
