// Targeted faults (see sim/targeted_faults.h): name lookups, checks and records around the
// world's own fault primitives (world.cpp, sim_network_faults.cpp), which do the work.
#include "moonpool/sim/targeted_faults.h"

#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/error.h"

namespace moonpool {

namespace {

constexpr std::string_view kHealAllKind = "net.heal_all";

std::string linkName(const std::string& first, const std::string& second, Direction direction) {
  switch (direction) {
    case Direction::kBoth: return first + "<->" + second;
    case Direction::kOutgoing: return first + "->" + second;
    case Direction::kIncoming: return second + "->" + first;
  }
  return first + "?" + second;
}

std::uint64_t countOf(const Timeline& timeline, std::string_view kind) {
  const auto& counts = timeline.faultCounts();
  const auto it = counts.find(kind);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace

std::string_view directionName(Direction direction) {
  switch (direction) {
    case Direction::kBoth: return "both ways";
    case Direction::kOutgoing: return "outgoing";
    case Direction::kIncoming: return "incoming";
  }
  return "unknown";
}

TargetedFaults::TargetedFaults(SimWorld& world) : world_(world) {}

// ---- lookups -------------------------------------------------------------------------------

ProcessId TargetedFaults::process(const std::string& name) const {
  std::string known;
  for (const ProcessInfo& info : world_.processes()) {
    if (info.name == name) return info.id;
    known += (known.empty() ? "" : ", ") + info.name;
  }
  throw Exception(ErrorKind::kFailed,
                  "targeted fault: no process named '" + name + "' (processes: " + known + ")");
}

ProcessId TargetedFaults::rebootable(const std::string& name, std::string_view action) const {
  const ProcessId id = process(name);
  if (world_.info(id).reboot == ProcessSpec::Reboot::kNever) {
    throw Exception(ErrorKind::kFailed,
                    "targeted fault: cannot " + std::string(action) + " '" + name +
                        "': it is a Reboot::kNever process (a workload or driver); process "
                        "faults target the system under test");
  }
  return id;
}

IpAddress TargetedFaults::ipOf(const std::string& name) const {
  return world_.info(process(name)).ip;
}

void TargetedFaults::linkCheck(const std::string& first, const std::string& second) const {
  if (process(first) == process(second)) {
    throw Exception(ErrorKind::kFailed,
                    "targeted fault: a link needs two processes, got '" + first + "' twice");
  }
}

FaultEffect TargetedFaults::record(std::string_view action, std::string subject,
                                   std::string detail, FaultEffect effect) {
  ++calls_;
  if (effect == FaultEffect::kNoEffect) detail += detail.empty() ? "no effect" : "; no effect";
  world_.timeline().fault("targeted." + std::string(action), std::move(subject),
                          std::move(detail));
  return effect;
}

// ---- processes -----------------------------------------------------------------------------

FaultEffect TargetedFaults::kill(const std::string& name, RebootKind kind) {
  const ProcessId id = rebootable(name, "kill");
  const ProcessState state = world_.info(id).state;
  const bool up = state == ProcessState::kRunning || state == ProcessState::kPaused;
  // Recorded before the kill so the timeline reads cause, then effect.
  const FaultEffect effect = record("kill", name, std::string(rebootKindName(kind)),
                                    up ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  if (!up) return effect;
  world_.kill(id, kind);
  killed_.insert(id);
  return effect;
}

FaultEffect TargetedFaults::reboot(const std::string& name, RebootKind kind, Duration delay) {
  if (delay < Duration(0)) {
    throw Exception(ErrorKind::kFailed, "targeted fault: a reboot delay cannot be negative (" +
                                            formatDuration(delay) + ")");
  }
  const ProcessId id = rebootable(name, "reboot");
  const ProcessState state = world_.info(id).state;
  const bool up = state == ProcessState::kRunning || state == ProcessState::kPaused;
  const FaultEffect effect =
      record("reboot", name,
             std::string(rebootKindName(kind)) + ", restart after " + formatDuration(delay),
             up ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  if (!up) return effect;
  world_.reboot(id, kind, delay);
  killed_.erase(id);
  return effect;
}

FaultEffect TargetedFaults::restart(const std::string& name) {
  const ProcessId id = rebootable(name, "restart");
  const bool down = world_.info(id).state == ProcessState::kDead;
  const FaultEffect effect =
      record("restart", name, "", down ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  if (!down) return effect;
  world_.restart(id);
  killed_.erase(id);
  return effect;
}

FaultEffect TargetedFaults::pause(const std::string& name) {
  const ProcessId id = rebootable(name, "pause");
  const bool running = world_.info(id).state == ProcessState::kRunning;
  const FaultEffect effect =
      record("pause", name, "", running ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  if (running) world_.pause(id);
  return effect;
}

FaultEffect TargetedFaults::resume(const std::string& name) {
  const ProcessId id = rebootable(name, "resume");
  const bool paused = world_.info(id).state == ProcessState::kPaused;
  const FaultEffect effect =
      record("resume", name, "", paused ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  if (paused) world_.resume(id);
  return effect;
}

std::size_t TargetedFaults::restartKilled() {
  std::size_t restarted = 0;
  for (const ProcessId id : killed_) {
    const ProcessInfo info = world_.info(id);
    if (info.state != ProcessState::kDead) continue;
    record("restart", info.name, "cleanup: killed and never restarted", FaultEffect::kApplied);
    world_.restart(id);
    ++restarted;
  }
  killed_.clear();
  return restarted;
}

// ---- network -------------------------------------------------------------------------------

bool TargetedFaults::uncut(IpAddress first, IpAddress second, Direction direction) const {
  const SimNetwork& network = world_.network();
  return (direction != Direction::kIncoming && !network.partitioned(first, second)) ||
         (direction != Direction::kOutgoing && !network.partitioned(second, first));
}

void TargetedFaults::cut(IpAddress first, IpAddress second, Direction direction) {
  SimNetwork& network = world_.network();
  if (direction != Direction::kIncoming) network.partition(first, second);
  if (direction != Direction::kOutgoing) network.partition(second, first);
}

FaultEffect TargetedFaults::isolate(const std::string& name, Direction direction) {
  const ProcessId id = process(name);
  const IpAddress ip = world_.info(id).ip;
  std::vector<IpAddress> others;
  for (const ProcessInfo& info : world_.processes()) {
    if (info.id != id) others.push_back(info.ip);
  }
  const std::string subject = name + " (isolated, " + std::string(directionName(direction)) + ")";
  bool changed = false;
  for (const IpAddress other : others) changed |= uncut(ip, other, direction);
  const FaultEffect effect =
      record("partition", subject, "", changed ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  for (const IpAddress other : others) cut(ip, other, direction);
  return effect;
}

FaultEffect TargetedFaults::partitionLink(const std::string& first, const std::string& second,
                                          Direction direction) {
  linkCheck(first, second);
  const IpAddress a = ipOf(first);
  const IpAddress b = ipOf(second);
  const FaultEffect effect =
      record("partition", linkName(first, second, direction), "",
             uncut(a, b, direction) ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  cut(a, b, direction);
  return effect;
}

FaultEffect TargetedFaults::clogLink(const std::string& first, const std::string& second,
                                     Duration duration, Direction direction) {
  linkCheck(first, second);
  if (duration <= Duration(0)) {
    throw Exception(ErrorKind::kFailed, "targeted fault: a clog needs a positive duration, got " +
                                            formatDuration(duration));
  }
  const IpAddress a = ipOf(first);
  const IpAddress b = ipOf(second);
  const FaultEffect effect = record("clog", linkName(first, second, direction),
                                    "for " + formatDuration(duration), FaultEffect::kApplied);
  if (direction != Direction::kIncoming) world_.network().clog(a, b, duration);
  if (direction != Direction::kOutgoing) world_.network().clog(b, a, duration);
  return effect;
}

FaultEffect TargetedFaults::clogProcess(const std::string& name, Duration duration) {
  const IpAddress ip = ipOf(name);
  if (duration <= Duration(0)) {
    throw Exception(ErrorKind::kFailed, "targeted fault: a clog needs a positive duration, got " +
                                            formatDuration(duration));
  }
  const FaultEffect effect =
      record("clog", name, "every link, for " + formatDuration(duration), FaultEffect::kApplied);
  world_.network().clogInterface(ip, duration);
  return effect;
}

FaultEffect TargetedFaults::healLink(const std::string& first, const std::string& second) {
  linkCheck(first, second);
  const IpAddress a = ipOf(first);
  const IpAddress b = ipOf(second);
  SimNetwork& network = world_.network();
  const bool changed = network.partitioned(a, b) || network.partitioned(b, a);
  const FaultEffect effect = record("heal", linkName(first, second, Direction::kBoth), "",
                                    changed ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  network.heal(a, b);
  network.heal(b, a);
  return effect;
}

FaultEffect TargetedFaults::heal(const std::string& name) {
  const ProcessId id = process(name);
  const IpAddress ip = world_.info(id).ip;
  SimNetwork& network = world_.network();
  std::vector<IpAddress> others;
  bool changed = false;
  for (const ProcessInfo& info : world_.processes()) {
    if (info.id == id) continue;
    others.push_back(info.ip);
    changed |= network.partitioned(ip, info.ip) || network.partitioned(info.ip, ip);
  }
  const FaultEffect effect =
      record("heal", name, "every link", changed ? FaultEffect::kApplied : FaultEffect::kNoEffect);
  for (const IpAddress other : others) {
    network.heal(ip, other);
    network.heal(other, ip);
  }
  return effect;
}

FaultEffect TargetedFaults::healAll() {
  const std::uint64_t before = countOf(world_.timeline(), kHealAllKind);
  world_.network().healAll();
  const bool changed = countOf(world_.timeline(), kHealAllKind) != before;
  return record("heal", "*", "every partition and clog",
                changed ? FaultEffect::kApplied : FaultEffect::kNoEffect);
}

}  // namespace moonpool
