// The simulated world: processes on one simulated network, each with its own disk
// (runtime/ simulated world).
//
//   Simulation sim(SimOptions{.seed = seed});
//   SimWorld world(sim, WorldOptions{});
//   ProcessId kv = world.addProcess({.name = "kv-1", .main = runKvServer});
//   world.reboot(kv, RebootKind::kCrash, std::chrono::seconds(2));
//
// A process is a real unit (DESIGN.md decision 5):
//   - an IP address (10.0.1.N unless given) and its port space on the SimNetwork;
//   - a name and tags; its disk on SimStorage, keyed by name so it survives reboots;
//   - a TaskGroup: everything its code spawns through its TaskProvider lives there, so
//     killing the process cancels every task of it, its connections are reset (peers see
//     kReset) and its listeners closed, and its disk loses unsynced writes per the fault
//     model;
//   - its own clock: a fixed offset and a small rate drift (ClockDriftOptions) over the
//     simulation's time, so processes disagree about time the way real machines do;
//   - an incarnation number, +1 per boot.
// Reboot kinds: graceful (the process gets a shutdown signal, a grace period, then a kill
// that counts as a crash if it has not returned by then), crash (killed at once, unsynced
// writes lost or torn), crash-and-wipe (its disk is erased too). A rebooted process is
// re-created from its ProcessSpec after the delay. pause() freezes a process (none of its
// tasks runs, its timers fire late) until resume().
//
// Processes with `Reboot::kNever` (workload drivers, clients) are never picked by attrition.
// Every fault and lifecycle event goes to the Timeline with its simulated time.
// A test picks its own faults by process name with TargetedFaults (sim/targeted_faults.h),
// and keeps per-seed objects every process reaches, across reboots, in shared()
// (sim/shared_state.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/buggify.h"
#include "moonpool/event.h"
#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/sim/sim_network.h"
#include "moonpool/sim/shared_state.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/timeline.h"
#include "moonpool/spawn.h"
#include "moonpool/storage.h"
#include "moonpool/task_function.h"

namespace moonpool {

using ProcessId = std::uint32_t;

enum class RebootKind : std::uint8_t { kGraceful, kCrash, kCrashAndWipe };
std::string_view rebootKindName(RebootKind kind);

enum class ProcessState : std::uint8_t { kRunning, kPaused, kStopping, kDead };
std::string_view processStateName(ProcessState state);

class ProcessContext;
using ProcessMain = TaskFunction<Task<void>(ProcessContext&)>;

struct ProcessSpec {
  enum class Reboot : std::uint8_t { kAllowed, kNever };

  std::string name = {};
  std::map<std::string, std::string> tags = {};
  IpAddress ip = {};  // unspecified: the world assigns 10.0.1.N (N = process index + 1)
  ProcessMain main = {};
  Reboot reboot = Reboot::kAllowed;
};

struct ClockDriftOptions {
  // Each boot draws a clock offset in [0, offsetMax) and a rate error in [-ppmMax, ppmMax].
  Duration offsetMax = std::chrono::milliseconds(100);
  std::int64_t ppmMax = 200;
};

struct GracefulOptions {
  DurationRange grace{std::chrono::seconds(2), std::chrono::seconds(5)};
};

struct BuggifyOptions {
  enum class Mode : std::uint8_t { kOff, kOn };
  Mode mode = Mode::kOn;
  Probability activation{0.5};
};

struct WorldOptions {
  NetworkOptions network;
  StorageOptions storage;
  ClockDriftOptions clock;
  GracefulOptions graceful;
  BuggifyOptions buggify;

  // The no-fault world, as NetworkOptions::quiet() and StorageOptions::quiet() are for their
  // providers: quiet network and disks, clocks without offset or drift, buggify off. Only
  // the graceful-shutdown grace keeps its default (a protocol timing, not a fault).
  // Attrition and network chaos are never part of WorldOptions: a test starts them itself.
  static WorldOptions quiet();
};

// Attrition: random reboots during a chaos phase (SimWorld::attrition()).
struct AttritionOptions {
  std::size_t deadMax = 1;  // never more processes down at once
  // Relative weights of the reboot kinds (normalized; all zero means crash).
  double weightGraceful = 1, weightCrash = 1, weightWipe = 0.2;
  DurationRange interval{std::chrono::seconds(1), std::chrono::seconds(5)};  // between rounds
  DurationRange recovery{std::chrono::seconds(1), std::chrono::seconds(10)};  // reboot delay
  // Probability that a round pauses a process for a while instead of rebooting it.
  Probability pauseProbability{0.1};
  DurationRange pause{std::chrono::milliseconds(100), std::chrono::seconds(3)};
};

struct ProcessInfo {
  ProcessId id = 0;
  std::string name;
  IpAddress ip;
  std::map<std::string, std::string> tags;
  ProcessState state = ProcessState::kDead;
  std::uint64_t incarnation = 0;
  // kNever: attrition and targeted process faults leave it alone (workloads, drivers).
  ProcessSpec::Reboot reboot = ProcessSpec::Reboot::kAllowed;
};

class SimWorld;

// What a process's code receives: its providers and what it may know about the world.
class ProcessContext {
 public:
  ProcessContext(const ProcessContext&) = delete;
  ProcessContext& operator=(const ProcessContext&) = delete;

  Providers providers() const { return providers_; }
  const std::string& name() const { return name_; }
  IpAddress ip() const { return ip_; }
  const std::map<std::string, std::string>& tags() const { return tags_; }
  std::uint64_t incarnation() const { return incarnation_; }
  // Set when a graceful shutdown begins; the process should finish and return. A process
  // that ignores it (its main still running when the grace period ends) is killed as a
  // crash: its unsynced writes are lost or torn, and the timeline records
  // process.force_kill. A graceful reboot is only as graceful as the process makes it.
  Event& shutdownRequested() { return *shutdown_; }
  // Every process of the world (self included), in id order.
  std::vector<ProcessInfo> peers() const;
  std::optional<ProcessInfo> peer(const std::string& name) const;
  // The seed's shared object of type T (SimWorld::shared(), sim/shared_state.h): the same
  // object in every process and every incarnation. Throws when the seed has none.
  template <typename T>
  T& shared();

 private:
  friend class SimWorld;
  ProcessContext(SimWorld& world, Providers providers, std::string name, IpAddress ip,
                 std::map<std::string, std::string> tags, std::uint64_t incarnation,
                 Event& shutdown);

  SimWorld& world_;
  Providers providers_;
  std::string name_;
  IpAddress ip_;
  std::map<std::string, std::string> tags_;
  std::uint64_t incarnation_;
  Event* shutdown_;
};

class SimWorld {
 public:
  SimWorld(Simulation& sim, WorldOptions options);
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;
  ~SimWorld();

  // Adds a process and boots it (its main is spawned into its fresh group).
  ProcessId addProcess(ProcessSpec spec);

  // Stops a process now: graceful runs the shutdown protocol (as a task of the world) and
  // returns at once. The process stays dead until restart() or a reboot().
  void kill(ProcessId id, RebootKind kind);
  // kill() followed by a restart after `delay`.
  void reboot(ProcessId id, RebootKind kind, Duration delay);
  // Boots a dead process again from its spec.
  void restart(ProcessId id);
  void pause(ProcessId id);
  void resume(ProcessId id);

  ProcessInfo info(ProcessId id) const;
  std::vector<ProcessInfo> processes() const;
  std::size_t processCount() const { return processes_.size(); }
  std::size_t deadCount() const;
  // Live tasks in a process's group (0 once it is dead).
  std::size_t liveTasks(ProcessId id) const;

  // Providers for code that belongs to no process (a test driver on the root group), seen
  // on the network as `ip`.
  Providers rootProviders();

  // Random reboots and pauses until `until` (simulated time), then it returns. Spawn it
  // during a chaos phase. Every decision is a draw from the main stream.
  Task<void> attrition(AttritionOptions options, TimePoint until);
  // Waits until every process is running again (after a chaos phase).
  Task<void> allRunning();

  Simulation& simulation() { return sim_; }
  SimNetwork& network() { return *network_; }
  SimStorage& storage() { return *storage_; }
  Timeline& timeline() { return timeline_; }
  const WorldOptions& options() const { return options_; }
  // State shared by every process and driver of this world (sim/shared_state.h): created
  // with the world, destroyed after every process's tasks.
  SharedState& shared() { return *shared_; }

  // Buggify sites seen in this run (for reports).
  struct BuggifySite {
    std::string file;
    std::uint32_t line = 0;
    bool active = false;
    std::uint64_t evaluated = 0;
    std::uint64_t fired = 0;
  };
  std::vector<BuggifySite> buggifySites() const;

 private:
  struct Process;
  struct RootProviders;
  class Buggify;
  class DriftingClock;
  struct ClockDraw {
    Duration offset{0};
    std::int64_t ppm = 0;
  };
  friend class ProcessContext;

  static constexpr std::size_t kProcessesMax = 250;  // one /24 of addresses
  static constexpr IpAddress kRootIp = IpAddress::fromOctets(10, 0, 0, 254);
  static constexpr Duration kAllRunningPoll = std::chrono::milliseconds(10);

  Process& at(ProcessId id);
  const Process& at(ProcessId id) const;
  void boot(Process& process);
  ClockDraw drawClock();
  Task<void> runMain(ProcessId id, std::uint64_t incarnation);
  void startStop(ProcessId id, RebootKind kind, std::optional<Duration> restartAfter);
  void stop(Process& process, RebootKind kind);
  Task<void> gracefulThenKill(ProcessId id, std::uint64_t incarnation, Duration grace,
                              std::optional<Duration> restartAfter);
  Task<void> restartLater(ProcessId id, std::uint64_t incarnation, Duration delay);
  Task<void> pauseFor(ProcessId id, std::uint64_t incarnation, Duration length);
  // A reseed point took effect (an explored timeline diverges): redraw pending fault timers.
  static void onReseed(void* world, std::uint64_t applied, std::uint64_t seed);
  class FaultWait;

  Simulation& sim_;
  WorldOptions options_;
  Timeline timeline_;
  std::unique_ptr<Buggify> buggify_;
  std::unique_ptr<SimNetwork> network_;
  std::unique_ptr<SimStorage> storage_;
  std::vector<std::unique_ptr<Process>> processes_;
  std::unique_ptr<RootProviders> rootProcess_;
  std::unique_ptr<TaskGroup> control_;  // the world's own tasks (restarts, graceful kills)
  SimTimer* attritionWait_ = nullptr;   // attrition's pending wait, while it sleeps
  Duration attritionGapMax_{0};
  std::unique_ptr<SharedState> shared_;  // reset last in ~SimWorld
};

template <typename T>
T& ProcessContext::shared() {
  return world_.shared().get<T>();
}

}  // namespace moonpool
