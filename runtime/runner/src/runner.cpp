// A run of many seeds: the loop, forked workers, merging and the report (see
// runner/runner.h). One seed is in seed_run.cpp.
#include "moonpool/runner/runner.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include "exploration.h"
#include "interrupt.h"
#include "iteration.h"
#include "live.h"
#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/executor.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/build_id.h"
#include "report_util.h"
#include "seed_run.h"
#include "worker_wire.h"

namespace moonpool {
namespace {

using internal::SeedSequence;
using internal::StopRule;

std::uint64_t simulatedStamp() {
  Executor* executor = Executor::tryCurrent();
  return executor == nullptr
             ? 0
             : static_cast<std::uint64_t>(executor->now().time_since_epoch().count());
}

// Merges seeds into the report as they arrive (in completion order), streams failures and
// draws progress.
class Collector {
 public:
  Collector(RunReport& report, const RunOptions& options, const IterationControl& control,
            const WallTimer& wall)
      : report_(report), options_(options), live_(report, options, control, wall) {}
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  void add(SeedResult seed) {
    MOONPOOL_CHECK(seed.verdict == SeedVerdict::kPass || !seed.message.empty(),
                   "a failing seed carries its reason");
    if (seed.failure == SeedFailure::kInterrupted) return;  // cut short: not a result
    for (const auto& [kind, count] : seed.faultCounts) report_.faultCounts[kind] += count;
    for (const auto& [name, metric] : seed.metrics) mergeMetric(report_.metrics, name, metric);
    for (const BuggifySiteTotal& site : seed.buggify) mergeBuggify(site);
    if (seed.exploration) {
      for (const auto& [kind, count] : seed.exploration->timelineFaults) {
        report_.faultCounts[kind] += count;
      }
      for (const auto& [name, metric] : seed.exploration->timelineMetrics) {
        mergeMetric(report_.metrics, name, metric);
      }
    }
    if (options_.onSeed) options_.onSeed(seed);
    report_.addSeed(seed);
    live_.seedDone(seed);
  }

  void tick() { live_.tick(); }
  // Whether a failing seed was collected (BugStop::kAtFirstBug ends the run on it).
  bool bugSeen() const { return report_.failedCount() > 0; }

  void finish() {
    live_.finish();
    report_.buggify.clear();
    for (auto& [key, site] : buggify_) report_.buggify.push_back(site);
    report_.sortSeeds();
  }

 private:
  void mergeBuggify(const BuggifySiteTotal& site) {
    BuggifySiteTotal& total = buggify_[{site.file, site.line}];
    total.file = site.file;
    total.line = site.line;
    total.seedsEvaluated += site.seedsEvaluated;
    total.seedsActive += site.seedsActive;
    total.evaluated += site.evaluated;
    total.fired += site.fired;
  }

  RunReport& report_;
  const RunOptions& options_;
  internal::LiveOutput live_;
  std::map<std::pair<std::string, std::uint32_t>, BuggifySiteTotal> buggify_;
};

constexpr const char* kInterruptedReason = "interrupted (SIGINT/SIGTERM)";
constexpr const char* kStoppedAtFirstBugReason = "stopped at the first bug (--stop_at_first_bug)";

// Traces are kept for failing seeds, and for every seed of a single-seed replay.
void trimTrace(SeedResult& seed, const RunOptions& options) {
  if (seed.verdict == SeedVerdict::kPass && !options.seed) seed.trace.clear();
}

// The in-process loop over indices start, start + stride, ...; returns the stop reason.
std::string runShare(const SimulationSpec& spec, const RunOptions& options,
                     const SeedSequence& seeds, StopRule& rule, std::uint64_t start,
                     std::uint64_t stride, const std::function<void(SeedResult)>& sink,
                     const std::function<void(std::uint64_t, std::uint64_t)>& begin,
                     const internal::SeedExtras& extras = {}) {
  for (std::uint64_t index = start;; index += stride) {
    if (internal::interruptRequested()) return kInterruptedReason;
    if (std::optional<std::string> stop = rule.before(index)) return *stop;
    const std::uint64_t seed = seeds.at(index);
    if (begin) begin(index, seed);
    SeedResult result = internal::runSeedWith(spec, index, seed, options.tracing, extras);
    if (result.failure == SeedFailure::kInterrupted) return kInterruptedReason;
    trimTrace(result, options);
    const bool failed = result.verdict == SeedVerdict::kFail;
    sink(std::move(result));
    if (failed && options.bugStop == BugStop::kAtFirstBug) return kStoppedAtFirstBugReason;
    if (std::optional<std::string> stop = rule.after()) return *stop;
  }
}

// ---- forked workers ------------------------------------------------------------------------

// A worker that crashes mid-seed is replaced by a fresh one continuing its share after that
// seed; past this many replacements in one run, a crashing share is abandoned (reported).
constexpr std::uint32_t kRespawnsMax = 64;

struct Worker {
  std::uint32_t number = 0;  // its share: indices number, number + jobs, ...
  pid_t pid = -1;
  int fd = -1;
  internal::FrameReader reader;
  std::optional<internal::BeginFrame> running;
  std::optional<std::string> stopReason;
  // Killed by the parent (BugStop::kAtFirstBug): its seed in progress is dropped, not failed.
  bool stopped = false;
};

// What every worker needs to run its share. The run's indices are those of its shard, base,
// base + step, ... (base 0, step 1 unsharded); worker w runs every jobs-th of them from the
// w-th on.
struct ShareContext {
  const SimulationSpec& spec;
  const RunOptions& options;
  const SeedSequence& seeds;
  IterationControl control;
  const WallTimer& wall;
  std::uint64_t base = 0;
  std::uint64_t step = 1;

  std::uint64_t stride() const { return step * options.jobs; }
  std::uint64_t firstIndex(std::uint32_t worker) const { return base + step * worker; }
  std::uint32_t workerOf(std::uint64_t index) const {
    return static_cast<std::uint32_t>((index / step) % options.jobs);
  }
};

[[noreturn]] void workerMain(const ShareContext& share, std::uint64_t start, int fd) {
  StopRule rule(share.control, share.wall);
  bool pipeOk = true;
  auto send = [&](const internal::Frame& frame) {
    if (pipeOk) pipeOk = internal::writeAll(fd, internal::encodeFrame(frame));
  };
  const std::string reason = runShare(
      share.spec, share.options, share.seeds, rule, start, share.stride(),
      [&](SeedResult r) { send(std::move(r)); },
      [&](std::uint64_t index, std::uint64_t seed) {
        send(internal::BeginFrame{.index = index, .seed = seed});
      });
  send(internal::EndFrame{.stopReason = reason});
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
  internal::registerWorker(pid);
  w.pid = pid;
  w.fd = fds[0];
  w.reader = internal::FrameReader();
  w.running.reset();
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
  internal::unregisterWorker(w.pid);
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && w.reader.error().empty() &&
                     w.stopReason.has_value() && w.reader.pending() == 0;
  if (clean || w.stopped) return std::nullopt;
  std::string why = "worker " + std::to_string(w.number) + " " + describeStatus(status);
  if (!w.reader.error().empty()) why += "; its stream was corrupt: " + w.reader.error();
  if (!w.running || internal::interruptRequested()) {
    // A worker stopped by the interrupt mid-seed has no result to give: not a crash.
    if (!internal::interruptRequested()) notes.push_back(why + " between seeds");
    return std::nullopt;
  }
  SeedResult crashed;
  crashed.index = w.running->index;
  crashed.seed = w.running->seed;
  crashed.verdict = SeedVerdict::kFail;
  crashed.failure = SeedFailure::kCrashed;
  crashed.message = why + " while running this seed; run it alone with --seed=" +
                    std::to_string(w.running->seed) + " to see the failure";
  collector.add(std::move(crashed));
  notes.push_back(why + " at seed " + std::to_string(w.running->seed));
  return w.running->index + stride;
}

void drain(Worker& w, Collector& collector, const ShareContext& share) {
  while (std::optional<internal::Frame> frame = w.reader.next()) {
    if (auto* begin = std::get_if<internal::BeginFrame>(&*frame)) {
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
    } else {
      w.stopReason = std::get<internal::EndFrame>(*frame).stopReason;
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
  if (!resume || internal::interruptRequested()) return false;
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

// Reads every worker's stream to its end and reaps every worker; returns the stop reasons.
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

void checkSpec(const SimulationSpec& spec, const RunOptions& options) {
  MOONPOOL_CHECK(options.jobs >= 1 && options.jobs <= RunOptions::kJobsMax,
                 "jobs must be in [1, kJobsMax]");
  for (const ProcessGroup& group : spec.processes) {
    MOONPOOL_CHECK(static_cast<bool>(group.main), "a process group without main");
  }
  for (const Workload& w : spec.workloads) {
    MOONPOOL_CHECK(static_cast<bool>(w.run), "a workload without run()");
  }
}

RunReport skeleton(const SimulationSpec& spec, const RunOptions& options,
                   const IterationControl& control) {
  RunReport report;
  report.name = spec.name;
  report.buildId = buildId();
  report.command = options.command;
  report.reproFlags = options.reproFlags;
  report.reproTemplate = options.reproTemplate;
  report.replayTemplate = options.replayTemplate;
  const bool single = options.seed || options.replay;
  report.jobs = single ? 1 : options.jobs;
  if (!single) report.shard = options.shard;
  report.iteration =
      options.replay ? "replay of recipe " + internal::formatRecipe(*options.replay)
      : options.seed ? "replay of seed " + std::to_string(*options.seed)
                     : control.toString();
  report.coverage = options.coverage.value_or(single ? CoverageContracts::kReportOnly
                                                     : CoverageContracts::kEnforce);
  report.coverageSignal = internal::coverageSignalName();
  return report;
}

std::optional<explorer::Config> explorationOf(const SimulationSpec& spec,
                                              const RunOptions& options) {
  if (options.replay || options.explore == ExploreMode::kOff) return std::nullopt;
  if (options.exploration) return options.exploration;
  if (options.explore == ExploreMode::kOn) {
    return spec.exploration.value_or(spec.explorationOnRequest.value_or(explorer::Config{}));
  }
  return spec.exploration;
}

// Runs the seeds of an explored run in this process (the explorer forks its timelines; no
// workers). Returns the stop reason.
std::string runExplored(const SimulationSpec& spec, const RunOptions& options,
                        const explorer::Config& config, const IterationControl& control,
                        const SeedSequence& seeds, const WallTimer& wall, Collector& collector,
                        RunReport& report) {
  absl::StatusOr<std::unique_ptr<internal::ExplorationSession>> session =
      internal::ExplorationSession::open(config);
  MOONPOOL_CHECK(session.ok(), std::string(session.status().message()));
  const internal::SeedExtras extras{.exploration = session->get()};
  const auto sink = [&](SeedResult r) { collector.add(std::move(r)); };
  // The progress line moves while the root waits for its timelines.
  explorer::setWaitHook([](void* c) { static_cast<Collector*>(c)->tick(); }, &collector);
  std::string reason;
  if (options.seed) {
    sink(internal::runSeedWith(spec, 0, *options.seed, options.tracing, extras));
    reason = internal::interruptRequested() ? kInterruptedReason : "single seed";
  } else {
    StopRule rule(control, wall);
    const Shard shard = options.shard.value_or(Shard{});
    reason = runShare(spec, options, seeds, rule, shard.index, shard.count, sink, nullptr, extras);
  }
  explorer::setWaitHook(nullptr, nullptr);
  internal::ExplorationSession::copyMaps(report);  // what a merge of shards unions
  return reason;
}

}  // namespace

RunReport runSimulation(const SimulationBuilder& builder, RunOptions options) {
  const SimulationSpec& spec = builder.spec();
  checkSpec(spec, options);
  setFailureStampSource(&simulatedStamp);
  // A report covers one run: counts start from zero (a shared mapping stays shared).
  resetAssertionTable();
  const IterationControl control = options.iteration.value_or(spec.effectiveIteration());
  const SeedSequence seeds(spec.seeds, options.firstSeed.value_or(spec.firstSeed));
  std::optional<explorer::Config> exploration = explorationOf(spec, options);
  if (exploration && options.bugStop == BugStop::kAtFirstBug) {
    exploration->bugs = explorer::BugPolicy::kStopAtFirst;
  }
  const Shard shard = options.shard.value_or(Shard{});
  MOONPOOL_CHECK(shard.count >= 1 && shard.count <= Shard::kCountMax && shard.index < shard.count,
                 "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count));
  RunReport report = skeleton(spec, options, control);
  std::optional<internal::InterruptHandlers> handlers;
  if (options.interrupts == Interrupts::kStopRun) handlers.emplace();
  WallTimer wall;
  // The progress line counts the shard's own seeds: indices below count with i % N == I.
  IterationControl shown = control;
  if (shard.count > 1 && shard.index < shown.count) {
    shown.count = (shown.count - shard.index + shard.count - 1) / shard.count;
  }
  Collector collector(report, options, shown, wall);
  if (options.replay) {
    const internal::SeedExtras extras{.replay = &*options.replay};
    collector.add(internal::runSeedWith(spec, 0, options.replay->rootSeed,
                                               options.tracing, extras));
    report.stopReason = "replay of one explored timeline";
  } else if (exploration) {
    report.explored = true;
    report.jobs = exploration->parallelism;
    report.edgeMode = internal::ExplorationSession::edgeMode();
    report.edgesTotal = internal::ExplorationSession::edgeCount();
    report.stopReason =
        runExplored(spec, options, *exploration, control, seeds, wall, collector, report);
  } else if (options.seed) {
    SeedResult result = runSeed(spec, 0, *options.seed, options.tracing);
    collector.add(std::move(result));
    report.stopReason = "single seed";
  } else if (options.jobs == 1) {
    StopRule rule(control, wall);
    report.stopReason = runShare(
        spec, options, seeds, rule, shard.index, shard.count,
        [&](SeedResult r) { collector.add(std::move(r)); }, nullptr);
  } else {
    const ShareContext share{spec, options, seeds, control, wall, shard.index, shard.count};
    report.stopReason = runWorkers(share, collector);
  }
  if (options.bugStop == BugStop::kAtFirstBug && collector.bugSeen()) {
    report.stoppedAtFirstBug = true;
    report.stopReason = kStoppedAtFirstBugReason;
  }
  collector.finish();
  report.interrupted = internal::interruptRequested() || internal::interruptSignal() != 0;
  if (report.interrupted) report.stopReason = kInterruptedReason;
  report.wall = wall.elapsed();
  report.assertions = collectAssertionReport();
  report.breaches = validateContracts(report.assertions);
  report.coverageValue = internal::coverageSignal();
  return report;
}

}  // namespace moonpool
