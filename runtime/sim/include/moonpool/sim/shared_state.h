// Per-seed shared state: objects a seed's processes and workloads all reach, such as a ghost
// registry of what clients were promised or a history a checker reads (runtime/ simulated
// world, public).
//
// The store belongs to the SimWorld, so it lives outside every process: a process that
// crashes and reboots finds the same objects (what it put there survives, as if written to
// an oracle outside the system). It is created with the world (one per seed) and destroyed
// with it, after every process's tasks are gone, so nothing leaks from one seed to the next
// and no global is needed. Code reaches it from its context:
//
//   struct Ghosts { std::map<std::uint64_t, std::string> promised; };
//
//   SimulationBuilder("kv").sharedState<Ghosts>() ...            // runner/builder.h
//   Task<void> serve(ProcessContext& ctx) { ctx.shared<Ghosts>().promised[id] = value; ... }
//   Task<CheckResult> check(WorkloadContext& ctx) { auto& g = ctx.shared<Ghosts>(); ... }
//
// Entries are keyed by type, one object per type, created in the order they are added
// (deterministic: no allocation addresses or hashes decide any order) and destroyed in the
// reverse order. At most kEntriesMax types per seed.
//
// Reading the shared state from a process lets the test see what the system under test cannot
// (another process's memory): keep it to oracles and bookkeeping the test needs, never
// protocol decisions.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/error.h"

namespace moonpool {

class SharedState {
 public:
  static constexpr std::size_t kEntriesMax = 64;

  SharedState() = default;
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;
  // Destroys the entries in reverse order of addition.
  ~SharedState();

  // Adds the object of type T; a second T, a null value or more than kEntriesMax entries is
  // a check failure (a test's set-up bug).
  template <typename T>
  T& add(std::unique_ptr<T> value) {
    MOONPOOL_CHECK(value != nullptr, "SharedState::add: a null object");
    MOONPOOL_CHECK(find<T>() == nullptr, "SharedState::add: a second object of one type");
    MOONPOOL_CHECK_LT(entries_.size(), kEntriesMax, "SharedState: too many shared types");
    T& ref = *value;
    entries_.push_back(
        Slot{std::type_index(typeid(T)), std::make_unique<Entry<T>>(std::move(value))});
    return ref;
  }

  // The object of type T, or null when none was added.
  template <typename T>
  T* find() {
    for (Slot& slot : entries_) {
      if (slot.type == std::type_index(typeid(T))) {
        return static_cast<Entry<T>*>(slot.entry.get())->value.get();
      }
    }
    return nullptr;
  }

  // The object of type T. Throws Exception(kFailed) naming the type when none was added (with
  // the runner: the builder did not declare it with sharedState<T>()).
  template <typename T>
  T& get() {
    if (T* found = find<T>()) return *found;
    throwMissing(typeid(T).name());
  }

  std::size_t size() const { return entries_.size(); }

 private:
  struct EntryBase {
    virtual ~EntryBase() = default;
  };
  template <typename T>
  struct Entry final : EntryBase {
    explicit Entry(std::unique_ptr<T> v) : value(std::move(v)) {}
    std::unique_ptr<T> value;
  };
  struct Slot {
    std::type_index type;
    std::unique_ptr<EntryBase> entry;
  };

  [[noreturn]] static void throwMissing(const char* mangledType);

  std::vector<Slot> entries_;  // in order of addition; lookup by type is a linear scan
};

}  // namespace moonpool
