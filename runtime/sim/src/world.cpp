// The simulated world: processes, their lifecycle and buggify (see sim/world.h).
// Attrition and the drifting per-process clock are in world_chaos.cpp.
#include "moonpool/sim/world.h"

#include <algorithm>

#include "world_internal.h"

namespace moonpool {

std::string_view rebootKindName(RebootKind kind) {
  switch (kind) {
    case RebootKind::kGraceful: return "graceful";
    case RebootKind::kCrash: return "crash";
    case RebootKind::kCrashAndWipe: return "crash-and-wipe";
  }
  return "unknown";
}

std::string_view processStateName(ProcessState state) {
  switch (state) {
    case ProcessState::kRunning: return "running";
    case ProcessState::kPaused: return "paused";
    case ProcessState::kStopping: return "stopping";
    case ProcessState::kDead: return "dead";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// Buggify: sites keyed by (file, line), ordered by content, never by address.

bool SimWorld::Buggify::evaluate(Probability firing, const std::source_location& where) {
  if (options_.mode == BuggifyOptions::Mode::kOff) return false;
  const AddressKey address{reinterpret_cast<std::uintptr_t>(where.file_name()), where.line()};
  auto cached = byAddress_.find(address);
  bool fresh = false;
  if (cached == byAddress_.end()) {
    auto [it, inserted] = sites_.try_emplace(SiteKey{where.file_name(), where.line()});
    fresh = inserted;  // false when another copy of the same file:line was seen (inlining)
    cached = byAddress_.emplace(address, &it->second).first;
  }
  Site& site = *cached->second;
  if (fresh) {
    site.active = random_.chance(options_.activation);
    if (site.active) {
      timeline_.trace("buggify.active", std::string(where.file_name()) + ":" +
                                            std::to_string(where.line()));
    }
  }
  ++site.evaluated;
  if (!site.active || !random_.chance(firing)) return false;
  ++site.fired;
  timeline_.fault("buggify", std::string(where.file_name()) + ":" + std::to_string(where.line()));
  return true;
}

std::uint64_t SimWorld::Buggify::draw(std::uint64_t bound) { return random_.below(bound); }

std::vector<SimWorld::BuggifySite> SimWorld::buggifySites() const {
  std::vector<BuggifySite> out;
  for (const auto& [key, site] : buggify_->sites()) {
    out.push_back(BuggifySite{key.file, key.line, site.active, site.evaluated, site.fired});
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// ProcessContext.

ProcessContext::ProcessContext(SimWorld& world, Providers providers, std::string name,
                               IpAddress ip, std::map<std::string, std::string> tags,
                               std::uint64_t incarnation, Event& shutdown)
    : world_(world),
      providers_(providers),
      name_(std::move(name)),
      ip_(ip),
      tags_(std::move(tags)),
      incarnation_(incarnation),
      shutdown_(&shutdown) {}

std::vector<ProcessInfo> ProcessContext::peers() const { return world_.processes(); }

std::optional<ProcessInfo> ProcessContext::peer(const std::string& name) const {
  for (ProcessInfo& info : world_.processes()) {
    if (info.name == name) return std::move(info);
  }
  return std::nullopt;
}

WorldOptions WorldOptions::quiet() {
  WorldOptions options;
  options.network = NetworkOptions::quiet();
  options.storage = StorageOptions::quiet();
  options.clock = ClockDriftOptions{.offsetMax = Duration(0), .ppmMax = 0};
  options.buggify.mode = BuggifyOptions::Mode::kOff;
  return options;
}

// ---------------------------------------------------------------------------------------
// SimWorld.

SimWorld::SimWorld(Simulation& sim, WorldOptions options)
    : sim_(sim),
      options_(std::move(options)),
      timeline_(sim.executor()),
      buggify_(std::make_unique<Buggify>(sim.random(), timeline_, options_.buggify)),
      network_(std::make_unique<SimNetwork>(sim.executor(), sim.random(), timeline_,
                                            options_.network)),
      storage_(std::make_unique<SimStorage>(sim.executor(), sim.random(), timeline_,
                                            options_.storage)),
      control_(std::make_unique<TaskGroup>(sim.executor(), "world")),
      shared_(std::make_unique<SharedState>()) {
  MOONPOOL_CHECK(sim.executor().buggifyHook() == nullptr, "one SimWorld per Simulation");
  MOONPOOL_CHECK(options_.graceful.grace.valid(), "graceful.grace needs 0 <= min <= max");
  sim.executor().setBuggifyHook(buggify_.get());
  sim.random().addAppliedListener(&SimWorld::onReseed, this);
}

SimWorld::~SimWorld() {
  control_.reset();
  for (auto& process : processes_) {
    if (process->state == ProcessState::kPaused) sim_.executor().resumeGroup(*process->group);
    process->group.reset();
  }
  rootProcess_.reset();
  shared_.reset();  // after every task that could still refer to it
  sim_.executor().setBuggifyHook(nullptr);
  sim_.random().removeAppliedListener(this);
}

SimWorld::Process& SimWorld::at(ProcessId id) {
  MOONPOOL_CHECK_LT(std::size_t{id}, processes_.size(), "no such process");
  return *processes_[id];
}

const SimWorld::Process& SimWorld::at(ProcessId id) const {
  MOONPOOL_CHECK_LT(std::size_t{id}, processes_.size(), "no such process");
  return *processes_[id];
}

ProcessId SimWorld::addProcess(ProcessSpec spec) {
  MOONPOOL_CHECK(static_cast<bool>(spec.main), "a process needs a main function");
  MOONPOOL_CHECK_LT(processes_.size(), kProcessesMax, "too many processes");
  const auto id = static_cast<ProcessId>(processes_.size());
  if (spec.name.empty()) spec.name = "process-" + std::to_string(id + 1);
  if (spec.ip.isUnspecified()) {
    spec.ip = IpAddress::fromOctets(10, 0, 1, static_cast<std::uint8_t>(id + 1));
  }
  for (const auto& other : processes_) {
    MOONPOOL_CHECK(other->spec.name != spec.name, "two processes share a name");
    MOONPOOL_CHECK(other->spec.ip != spec.ip, "two processes share an IP address");
  }
  auto process = std::make_unique<Process>();
  process->id = id;
  process->spec = std::move(spec);
  processes_.push_back(std::move(process));
  boot(*processes_.back());
  return id;
}

void SimWorld::boot(Process& p) {
  MOONPOOL_CHECK(p.state == ProcessState::kDead, "booting a process that is not dead");
  SimExecutor& executor = sim_.executor();
  ++p.incarnation;
  p.group = std::make_unique<TaskGroup>(executor, p.spec.name);
  p.time = std::make_unique<DriftingClock>(executor, drawClock());
  p.tasks = std::make_unique<GroupTaskProvider>(*p.group);
  p.network = network_->providerFor(p.spec.ip);
  p.shutdown = std::make_unique<Event>();
  p.exited = std::make_unique<Event>();
  Providers providers(*p.time, *p.tasks, sim_.random(), *p.network,
                      storage_->disk(p.spec.name));
  p.context.reset(new ProcessContext(*this, providers, p.spec.name, p.spec.ip, p.spec.tags,
                                     p.incarnation, *p.shutdown));
  p.state = ProcessState::kRunning;
  timeline_.trace("process.boot", p.spec.name, "incarnation " + std::to_string(p.incarnation));
  // Detached into the process's group: a main that throws is a bug of the service, and the
  // group's default failure handler fails the run with it (it is never silently dropped).
  p.group->spawn(p.spec.name + ".main", runMain(p.id, p.incarnation)).detach();
}

Task<void> SimWorld::runMain(ProcessId id, std::uint64_t incarnation) {
  Process& p = at(id);
  co_await p.spec.main(*p.context);
  // Returning from main is a process exit: every task it spawned goes with it.
  if (p.incarnation != incarnation || p.state == ProcessState::kDead) co_return;
  timeline_.trace("process.exit", p.spec.name);
  p.exited->set();
  if (p.state == ProcessState::kStopping) co_return;  // the graceful path finishes the stop
  p.state = ProcessState::kDead;
  p.group->cancelAll();
}

void SimWorld::stop(Process& p, RebootKind kind) {
  if (p.state == ProcessState::kDead) return;
  if (p.state == ProcessState::kPaused) sim_.executor().resumeGroup(*p.group);
  p.state = ProcessState::kDead;
  // Order matters: peers must see resets, not graceful closes, when the tasks unwind.
  if (kind != RebootKind::kGraceful) network_->resetIp(p.spec.ip);
  if (kind == RebootKind::kCrash) storage_->crash(p.spec.name);
  if (kind == RebootKind::kCrashAndWipe) storage_->wipe(p.spec.name);
  p.group->cancelAll();
  p.exited->set();
  // A graceful stop closes connections gracefully (their owners were destroyed above);
  // whatever is left (listeners of unwound tasks are gone too) is closed now.
  if (kind == RebootKind::kGraceful) network_->resetIp(p.spec.ip);
}

void SimWorld::kill(ProcessId id, RebootKind kind) { startStop(id, kind, std::nullopt); }

void SimWorld::reboot(ProcessId id, RebootKind kind, Duration delay) {
  MOONPOOL_CHECK_GE(delay, Duration(0));
  startStop(id, kind, delay);
}

void SimWorld::startStop(ProcessId id, RebootKind kind, std::optional<Duration> restartAfter) {
  Process& p = at(id);
  if (p.state == ProcessState::kDead || p.state == ProcessState::kStopping) return;
  timeline_.fault(std::string("process.") + std::string(rebootKindName(kind)), p.spec.name,
                  restartAfter ? "restart after " + formatDuration(*restartAfter)
                               : std::string("no restart"));
  if (restartAfter) p.restartPending = true;
  if (kind == RebootKind::kGraceful) {
    if (p.state == ProcessState::kPaused) {
      sim_.executor().resumeGroup(*p.group);
    }
    p.state = ProcessState::kStopping;
    p.shutdown->set();
    const Duration grace = sim_.random().durationIn(options_.graceful.grace);
    control_->spawn("graceful " + p.spec.name,
                    gracefulThenKill(id, p.incarnation, grace, restartAfter))
        .detach();
    return;
  }
  stop(p, kind);
  if (restartAfter) {
    control_->spawn("restart " + p.spec.name, restartLater(id, p.incarnation, *restartAfter))
        .detach();
  }
}

Task<void> SimWorld::gracefulThenKill(ProcessId id, std::uint64_t incarnation, Duration grace,
                                      std::optional<Duration> restartAfter) {
  Process& p = at(id);
  const bool clean = co_await tryWithin(*p.time, grace, p.exited->wait());
  if (p.incarnation != incarnation) co_return;
  if (!clean) {
    timeline_.fault("process.force_kill", p.spec.name,
                    "still running after a grace period of " + formatDuration(grace));
  }
  p.state = ProcessState::kStopping;  // stop() below needs a live state
  stop(p, clean ? RebootKind::kGraceful : RebootKind::kCrash);
  if (restartAfter) co_await restartLater(id, incarnation, *restartAfter);
}

Task<void> SimWorld::restartLater(ProcessId id, std::uint64_t incarnation, Duration delay) {
  co_await sim_.executor().sleep(delay);
  Process& p = at(id);
  if (p.incarnation != incarnation || p.state != ProcessState::kDead) co_return;
  p.restartPending = false;
  timeline_.fault("process.restart", p.spec.name);
  boot(p);
}

void SimWorld::restart(ProcessId id) {
  Process& p = at(id);
  MOONPOOL_CHECK(p.state == ProcessState::kDead, "restarting a process that is not dead");
  p.restartPending = false;
  timeline_.fault("process.restart", p.spec.name);
  boot(p);
}

void SimWorld::pause(ProcessId id) {
  Process& p = at(id);
  if (p.state != ProcessState::kRunning) return;
  p.state = ProcessState::kPaused;
  sim_.executor().pauseGroup(*p.group);
  timeline_.fault("process.pause", p.spec.name);
}

void SimWorld::resume(ProcessId id) {
  Process& p = at(id);
  if (p.state != ProcessState::kPaused) return;
  p.state = ProcessState::kRunning;
  sim_.executor().resumeGroup(*p.group);
  timeline_.fault("process.resume", p.spec.name);
}

ProcessInfo SimWorld::info(ProcessId id) const {
  const Process& p = at(id);
  return ProcessInfo{p.id,    p.spec.name,    p.spec.ip,    p.spec.tags,
                     p.state, p.incarnation, p.spec.reboot};
}

std::vector<ProcessInfo> SimWorld::processes() const {
  std::vector<ProcessInfo> out;
  out.reserve(processes_.size());
  for (const auto& p : processes_) out.push_back(info(p->id));
  return out;
}

std::size_t SimWorld::deadCount() const {
  return static_cast<std::size_t>(
      std::count_if(processes_.begin(), processes_.end(), [](const auto& p) {
        return p->state == ProcessState::kDead || p->state == ProcessState::kStopping;
      }));
}

std::size_t SimWorld::liveTasks(ProcessId id) const {
  const Process& p = at(id);
  return p.state == ProcessState::kDead || !p.group ? 0 : p.group->size();
}

Providers SimWorld::rootProviders() {
  if (!rootProcess_) {
    rootProcess_ = std::make_unique<RootProviders>();
    rootProcess_->time = std::make_unique<SimTimeProvider>(sim_.executor());
    rootProcess_->tasks = std::make_unique<GroupTaskProvider>(sim_.executor().rootGroup());
    rootProcess_->network = network_->providerFor(kRootIp);
  }
  return Providers(*rootProcess_->time, *rootProcess_->tasks, sim_.random(),
                   *rootProcess_->network, storage_->disk("(root)"));
}

Task<void> SimWorld::allRunning() {
  for (;;) {
    bool waiting = false;
    for (auto& p : processes_) {
      if (p->state == ProcessState::kPaused) resume(p->id);
      if (p->state == ProcessState::kStopping || p->restartPending) waiting = true;
    }
    if (!waiting) co_return;
    co_await sim_.executor().sleep(kAllRunningPoll);
  }
}

}  // namespace moonpool
