// Running seeds into a report: the in-process loop and the forked workers (see
// seed_loop.h).
#include "seed_loop.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "interrupt.h"
#include "moonpool/assertions/table.h"
#include "worker_wire.h"

namespace moonpool::internal {
void trimTrace(SeedResult& seed, const RunOptions& options) {
  if (seed.verdict == SeedVerdict::kPass && !options.seed) seed.trace.clear();
}

std::string runShare(const SimulationSpec& spec, const RunOptions& options,
                     const SeedSequence& seeds, StopRule& rule, std::uint64_t start,
                     std::uint64_t stride, const std::function<void(SeedResult)>& sink,
                     const std::function<void(std::uint64_t, std::uint64_t)>& begin,
                     const SeedExtras& extras) {
  for (std::uint64_t index = start;; index += stride) {
    if (interruptRequested()) return kInterruptedReason;
    if (std::optional<std::string> stop = rule.before(index)) return *stop;
    const std::uint64_t seed = seeds.at(index);
    if (begin) begin(index, seed);
    SeedResult result = runSeedWith(spec, index, seed, options.tracing, extras);
    if (result.failure == SeedFailure::kInterrupted) return kInterruptedReason;
    trimTrace(result, options);
    const bool failed = result.verdict == SeedVerdict::kFail;
    sink(std::move(result));
    if (failed && options.bugStop == BugStop::kAtFirstBug) return kStoppedAtFirstBugReason;
    if (std::optional<std::string> stop = rule.after()) return *stop;
  }
}

namespace {

// ---- forked workers ------------------------------------------------------------------------

// A worker that crashes mid-seed is replaced by a fresh one continuing its share after that
// seed; past this many replacements in one run, a crashing share is abandoned (reported).
constexpr std::uint32_t kRespawnsMax = 64;

struct Worker {
  std::uint32_t number = 0;  // its share: indices number, number + jobs, ...
  pid_t pid = -1;
  int fd = -1;
  FrameReader reader;
  std::optional<BeginFrame> running;
  std::optional<std::string> stopReason;
  // Killed by the parent (BugStop::kAtFirstBug): its seed in progress is dropped, not failed.
  bool stopped = false;
  // The report of a MOONPOOL_CHECK that failed in its seed in progress (it aborts next).
  std::optional<std::string> checkReport;
};

// The worker's end of its pipe, for sendCheckReport (a worker process has one).
int gWorkerFd = -1;

// A MOONPOOL_CHECK failed in the seed this worker announced: its report goes to the parent
// before the worker aborts.
void sendCheckReport(std::string_view report) {
  if (gWorkerFd >= 0) writeAll(gWorkerFd, encodeFrame(CheckFrame{.report = std::string(report)}));
}

[[noreturn]] void workerMain(const ShareContext& share, std::uint64_t start, int fd) {
  StopRule rule(share.control, share.wall);
  gWorkerFd = fd;
  setPlainCheckSink(&sendCheckReport);
  bool pipeOk = true;
  auto send = [&](const Frame& frame) {
    if (pipeOk) pipeOk = writeAll(fd, encodeFrame(frame));
  };
  const std::string reason = runShare(
      share.spec, share.options, share.seeds, rule, start, share.stride(),
      [&](SeedResult r) { send(std::move(r)); },
      [&](std::uint64_t index, std::uint64_t seed) {
        send(BeginFrame{.index = index, .seed = seed});
      });
  send(EndFrame{.stopReason = reason});
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(pipeOk ? 0 : 3);
}

// Forks a worker for the share of `w.number`, starting at index `start`.
void spawn(Worker& w, const ShareContext& share, std::uint64_t start,
           const std::vector<Worker>& all) {
  int fds[2];
  MOONPOOL_CHECK(::pipe(fds) == 0, std::strerror(errno));
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t pid = ::fork();
  MOONPOOL_CHECK(pid >= 0, std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    for (const Worker& other : all) {
      if (other.fd >= 0) ::close(other.fd);
    }
    workerMain(share, start, fds[1]);
  }
  ::close(fds[1]);
  registerWorker(pid);
  w.pid = pid;
  w.fd = fds[0];
  w.reader = FrameReader();
  w.running.reset();
  w.checkReport.reset();
  w.stopReason.reset();
  w.stopped = false;
}

std::string describeStatus(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

// A worker's stream ended: reap it and account for a seed it did not finish. Returns the
// index to restart its share from when it crashed mid-seed.
std::optional<std::uint64_t> retire(Worker& w, Collector& collector, std::uint64_t stride,
                                    std::vector<std::string>& notes) {
  ::close(w.fd);
  w.fd = -1;
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  unregisterWorker(w.pid);
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && w.reader.error().empty() &&
                     w.stopReason.has_value() && w.reader.pending() == 0;
  if (clean || w.stopped) return std::nullopt;
  std::string why = "worker " + std::to_string(w.number) + " " + describeStatus(status);
  if (!w.reader.error().empty()) why += "; its stream was corrupt: " + w.reader.error();
  if (!w.running || interruptRequested()) {
    // A worker stopped by the interrupt mid-seed has no result to give: not a crash.
    if (!interruptRequested()) notes.push_back(why + " between seeds");
    return std::nullopt;
  }
  SeedResult crashed;
  crashed.index = w.running->index;
  crashed.seed = w.running->seed;
  crashed.verdict = SeedVerdict::kFail;
  crashed.failure = SeedFailure::kCrashed;
  if (w.checkReport) {
    crashed.message = *w.checkReport + "\n(a MOONPOOL_CHECK failed while running this seed: " +
                      why + "; a fresh worker went on with the next seed)";
  } else {
    crashed.message = why + " while running this seed; run it alone with --seed=" +
                      std::to_string(w.running->seed) + " to see the failure";
  }
  collector.add(std::move(crashed));
  notes.push_back(why + " at seed " + std::to_string(w.running->seed) +
                  (w.checkReport ? " (a failed MOONPOOL_CHECK)" : ""));
  return w.running->index + stride;
}

void drain(Worker& w, Collector& collector, const ShareContext& share) {
  while (std::optional<Frame> frame = w.reader.next()) {
    if (auto* begin = std::get_if<BeginFrame>(&*frame)) {
      w.running = *begin;
    } else if (auto* result = std::get_if<SeedResult>(&*frame)) {
      // Check on read: a result answers the seed its worker announced, from its share.
      MOONPOOL_CHECK(
          w.running && w.running->index == result->index && w.running->seed == result->seed,
          "worker " + std::to_string(w.number) + " sent a result it did not announce");
      MOONPOOL_CHECK_EQ(result->index % share.step, share.base, "a seed from another shard");
      MOONPOOL_CHECK_EQ(share.workerOf(result->index), w.number,
                        "a seed from another worker's share");
      w.running.reset();
      collector.add(std::move(*result));
    } else if (auto* check = std::get_if<CheckFrame>(&*frame)) {
      MOONPOOL_CHECK(w.running.has_value(), "a check report outside a seed");
      w.checkReport = check->report;
    } else {
      w.stopReason = std::get<EndFrame>(*frame).stopReason;
    }
  }
}

std::string joinReasons(const std::vector<Worker>& workers, std::vector<std::string> notes) {
  std::vector<std::string> reasons;
  for (const Worker& w : workers) {
    if (w.stopReason && std::find(reasons.begin(), reasons.end(), *w.stopReason) == reasons.end()) {
      reasons.push_back(*w.stopReason);
    }
  }
  for (std::string& note : notes) reasons.push_back(std::move(note));
  std::string out;
  for (const std::string& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

// Reads one ready worker; false once its stream ended and it is not replaced.
bool service(Worker& w, const ShareContext& share, Collector& collector, std::vector<Worker>& all,
             std::uint32_t& respawns, std::vector<std::string>& notes) {
  char buffer[64 * 1024];
  const ssize_t n = ::read(w.fd, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return true;
  if (n > 0) {
    w.reader.append(std::string_view(buffer, static_cast<std::size_t>(n)));
    drain(w, collector, share);
    return true;
  }
  const std::optional<std::uint64_t> resume = retire(w, collector, share.stride(), notes);
  if (!resume || interruptRequested()) return false;
  if (respawns == kRespawnsMax) {
    notes.push_back("worker " + std::to_string(w.number) + ": share abandoned after " +
                    std::to_string(kRespawnsMax) + " worker crashes");
    return false;
  }
  ++respawns;
  spawn(w, share, *resume, all);
  return true;
}

// BugStop::kAtFirstBug: kills every worker still running; their streams are still read to
// the end (a seed already sent counts), and the next retire() reaps each.
void stopAll(std::vector<Worker>& workers) {
  for (Worker& w : workers) {
    if (w.fd < 0 || w.stopped) continue;
    w.stopped = true;
    ::kill(w.pid, SIGKILL);
  }
}

}  // namespace

std::string runWorkers(const ShareContext& share, Collector& collector) {
  // Counters of every worker land in one table (see runner.h).
  if (assertionTableSharing() != TableSharing::kShared) {
    allocateAssertionTable(TableSharing::kShared);
  }
  std::vector<Worker> workers(share.options.jobs);
  for (std::uint32_t i = 0; i < share.options.jobs; ++i) {
    workers[i].number = i;
    spawn(workers[i], share, share.firstIndex(i), workers);
  }
  std::vector<std::string> notes;
  std::uint32_t respawns = 0;
  std::size_t open = workers.size();
  while (open > 0) {
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (Worker& w : workers) {
      if (w.fd < 0) continue;
      fds.push_back(pollfd{.fd = w.fd, .events = POLLIN, .revents = 0});
      owners.push_back(&w);
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      MOONPOOL_CHECK(errno == EINTR, std::strerror(errno));
      continue;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0 && !service(*owners[i], share, collector, workers, respawns, notes)) {
        --open;
      }
    }
    if (share.options.bugStop == BugStop::kAtFirstBug && collector.bugSeen()) stopAll(workers);
  }
  return joinReasons(workers, std::move(notes));
}

}  // namespace moonpool::internal
