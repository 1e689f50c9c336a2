// Internal pieces of the simulated world shared by world.cpp and world_chaos.cpp.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "moonpool/sim/world.h"

namespace moonpool {

// A process's own clock: offset and rate error over the simulation's time, fixed per boot.
// Monotonic; sleeping d on it sleeps d / (1 + ppm/1e6) of simulated time, rounded up.
class SimWorld::DriftingClock final : public TimeProvider {
 public:
  DriftingClock(SimExecutor& executor, ClockDraw draw)
      : executor_(executor), bootTime_(executor.now()), draw_(draw) {}

  // implements TimeProvider
  TimePoint now() const override;
  Task<void> sleep(Duration delay) override;

 private:
  SimExecutor& executor_;
  TimePoint bootTime_;
  ClockDraw draw_;
};

struct SimWorld::Process {
  ProcessId id = 0;
  ProcessSpec spec;
  ProcessState state = ProcessState::kDead;
  std::uint64_t incarnation = 0;
  bool restartPending = false;
  // Per boot. The group is kept after a stop until the next boot (a task of the group may
  // be the one that stopped it).
  std::unique_ptr<TaskGroup> group;
  std::unique_ptr<DriftingClock> time;
  std::unique_ptr<GroupTaskProvider> tasks;
  std::unique_ptr<NetworkProvider> network;
  std::unique_ptr<Event> shutdown;
  std::unique_ptr<Event> exited;
  std::unique_ptr<ProcessContext> context;
};

struct SimWorld::RootProviders {
  std::unique_ptr<SimTimeProvider> time;
  std::unique_ptr<GroupTaskProvider> tasks;
  std::unique_ptr<NetworkProvider> network;
};

class SimWorld::Buggify final : public BuggifyHook {
 public:
  struct SiteKey {
    std::string file;
    std::uint32_t line = 0;
    auto operator<=>(const SiteKey&) const = default;
  };
  struct Site {
    bool active = false;
    std::uint64_t evaluated = 0;
    std::uint64_t fired = 0;
  };

  Buggify(RandomProvider& random, Timeline& timeline, BuggifyOptions options)
      : random_(random), timeline_(timeline), options_(options) {}

  // implements BuggifyHook
  bool evaluate(Probability firing, const std::source_location& where) override;
  std::uint64_t draw(std::uint64_t bound) override;

  const std::map<SiteKey, Site>& sites() const { return sites_; }

 private:
  RandomProvider& random_;
  Timeline& timeline_;
  BuggifyOptions options_;
  std::map<SiteKey, Site> sites_;
  // A fast path from the call site's static file-name pointer to its entry in sites_.
  // Lookup only, never iterated (STYLE.md rule 10): reports iterate sites_ by content.
  struct AddressKey {
    std::uintptr_t file = 0;
    std::uint32_t line = 0;
    bool operator==(const AddressKey&) const = default;
  };
  struct AddressHash {
    std::size_t operator()(const AddressKey& k) const {
      return std::hash<std::uintptr_t>()(k.file) ^ (std::size_t{k.line} * 0x9E3779B97F4A7C15ull);
    }
  };
  std::unordered_map<AddressKey, Site*, AddressHash> byAddress_;
};

}  // namespace moonpool
