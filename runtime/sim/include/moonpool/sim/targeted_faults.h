// Targeted faults: the fault a test chooses, on the process or link it names, at the moment
// it chooses (runtime/ simulated world, public).
//
// Random chaos (attrition, network episodes, fault rates) finds what nobody thought of; a
// targeted fault reaches the moment somebody did think of: "crash the leader right after it
// acknowledged", "cut the replica off during a write", "delay the primary's replies to one
// client". A workload gets one from its context (WorkloadContext::faults(); runner/
// workload.h); a test driving a SimWorld directly builds its own.
//
//   Task<void> runNemesis(WorkloadContext& ctx) {
//     TargetedFaults& faults = ctx.faults();
//     co_await ctx.providers().time().sleep(std::chrono::seconds(2));
//     faults.reboot("kv-1", RebootKind::kCrash, std::chrono::milliseconds(500));
//     faults.partitionLink("kv-2", "kv-3", Direction::kBoth);
//     faults.clogLink("client", "kv-2", std::chrono::milliseconds(300), Direction::kOutgoing);
//     co_await ctx.providers().time().sleep(std::chrono::seconds(1));
//     faults.healLink("kv-2", "kv-3");
//   }
//
// What each does is what the world's own chaos does (world.h, sim_network.h): a crash
// resets the process's connections and loses or tears its unsynced writes, a wipe erases its
// disk, a graceful reboot asks the process to stop (shutdownRequested()) and kills it as a
// crash if it has not returned within the grace period; a partitioned path delivers nothing
// and may reset the connections crossing it; a clogged path delays delivery until the clog
// ends. Names are process names ("kv-1", or a workload's "client", "client-2").
//
// Recording: every call is recorded in the world's Timeline as a fault of kind
// "targeted.<action>" (targeted.kill, targeted.reboot, targeted.restart, targeted.pause,
// targeted.resume, targeted.partition, targeted.clog, targeted.heal) naming its subject, and
// the effects are recorded as random chaos records them (process.crash, net.partition, ...),
// so the seed's fault summary and report show both who decided and what happened. A call
// that changes nothing (killing a process that is already down) is recorded with
// "no effect" and returns FaultEffect::kNoEffect.
//
// Determinism: a targeted fault draws from the main stream only where the world's own fault
// would (the grace period of a graceful reboot, the reset draws of a new partition), so the
// same seed with the same calls replays exactly, alone or mixed with random chaos.
//
// Errors: naming a process the world does not have, targeting a process with
// ProcessSpec::Reboot::kNever (a workload's own process: the runner drives it) with a
// process fault, or a link from a process to itself throws Exception(kFailed) with the
// reason; from a workload's run() that fails the seed as a workload error.
//
// With the runner: when the chaos phase ends the runner heals every partition and clog and
// waits for every reboot, as it does after random chaos, and it also restarts a process a
// targeted kill() left down. A run() that injects faults after chaosOver() (or with no chaos
// phase) gets the same cleanup once every run() has returned, before the checks.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/sim/world.h"

namespace moonpool {

// Which traffic of a link (first, second) or of a process a fault stops.
enum class Direction : std::uint8_t {
  kBoth,      // both ways
  kOutgoing,  // from the first process to the second (for a process: everything it sends)
  kIncoming,  // from the second to the first (for a process: everything sent to it)
};
std::string_view directionName(Direction direction);

// What a targeted fault did: kNoEffect when the world was already that way (recorded too).
enum class FaultEffect : std::uint8_t { kApplied, kNoEffect };

// Targeted faults on one world. Holds a reference to the world, which must outlive it; not
// copyable. Every call acts at once, at the current simulated time.
class TargetedFaults {
 public:
  explicit TargetedFaults(SimWorld& world);
  TargetedFaults(const TargetedFaults&) = delete;
  TargetedFaults& operator=(const TargetedFaults&) = delete;

  // ---- processes (names of Reboot::kAllowed processes) ----

  // Stops the process with `kind`; it stays down until restart() (or the runner's cleanup).
  FaultEffect kill(const std::string& name, RebootKind kind);
  // Stops it with `kind` and boots it again `delay` after it is down.
  FaultEffect reboot(const std::string& name, RebootKind kind, Duration delay);
  // Boots a process that is down, at once (one with a reboot pending comes back sooner and
  // that reboot does nothing); kNoEffect when it is running, paused or stopping.
  FaultEffect restart(const std::string& name);
  // Freezes every task of the process (its timers fire late) until resume().
  FaultEffect pause(const std::string& name);
  FaultEffect resume(const std::string& name);

  // ---- network (any process, workloads included) ----

  // Cuts `name` off from every other process of the world, in `direction`.
  FaultEffect isolate(const std::string& name, Direction direction);
  // Cuts the link between two processes, in `direction` (kOutgoing: first -> second).
  FaultEffect partitionLink(const std::string& first, const std::string& second,
                            Direction direction);
  // Delays delivery on the link for `duration` from now (kOutgoing: first -> second).
  FaultEffect clogLink(const std::string& first, const std::string& second, Duration duration,
                       Direction direction);
  // Delays everything `name` sends or receives for `duration` from now.
  FaultEffect clogProcess(const std::string& name, Duration duration);
  // Removes the partitions of one link (both ways), of one process (with every other), or
  // every partition and clog of the world (healAll; clogs otherwise end on their own).
  FaultEffect healLink(const std::string& first, const std::string& second);
  FaultEffect heal(const std::string& name);
  FaultEffect healAll();

  // ---- for the runner ----

  // True once any call was made (the runner's extra cleanup runs only then).
  bool used() const { return calls_ > 0; }
  // Restarts every process a kill() left down (still down, no reboot pending); returns how
  // many it restarted. Recorded as targeted.restart "cleanup".
  std::size_t restartKilled();

 private:
  ProcessId process(const std::string& name) const;
  ProcessId rebootable(const std::string& name, std::string_view action) const;
  IpAddress ipOf(const std::string& name) const;
  void linkCheck(const std::string& first, const std::string& second) const;
  FaultEffect record(std::string_view action, std::string subject, std::string detail,
                     FaultEffect effect);
  // True when some path of `direction` between the two is not partitioned yet.
  bool uncut(IpAddress first, IpAddress second, Direction direction) const;
  void cut(IpAddress first, IpAddress second, Direction direction);

  SimWorld& world_;
  std::uint64_t calls_ = 0;
  std::set<ProcessId> killed_;  // ordered: restartKilled() boots in id order
};

}  // namespace moonpool
