// Workloads: the test drivers of a simulation (runtime/ runner layer, public).
//
//   Workload{.name = "client",
//            .setup = [](WorkloadContext& ctx) -> Task<void> { ... },
//            .run = runClient,                        // required
//            .check = [](WorkloadContext& ctx) -> Task<CheckResult> { ... }}
//
// A workload is a simulated process too (ProcessSpec::Reboot::kNever, so attrition never
// picks it) at 10.0.0.N; the system under test runs in the builder's processes (10.0.1.N).
// Per seed the runner drives every workload through three phases (runner.h):
//   setup  each workload's setup(), one after the other, in declaration order;
//   run    every run() at once, while the chaos phase injects faults; then faults stop and
//          the world settles;
//   check  each check(), in order. A check that throws or returns violations fails the seed.
// A setup() or run() that throws fails the seed too ("workload error").
//
// State: the three functions are called with the same WorkloadContext, and
// `ctx.state<T>()` is a T created fresh for each seed and workload instance, so what run()
// records is there for check() and nothing leaks into the next seed. State shared with the
// system's processes and the other workloads is `ctx.shared<T>()`, declared in the builder
// (SimulationBuilder::sharedState<T>(), sim/shared_state.h). Coroutine lambdas must not
// capture: keep data in state<T>(), shared<T>() or the process context.
//
// Faults: `ctx.faults()` kills, reboots, pauses, partitions and clogs named processes and
// links at the moment run() chooses (sim/targeted_faults.h), alone or next to random chaos.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/event.h"
#include "moonpool/runner/report.h"
#include "moonpool/sim/targeted_faults.h"
#include "moonpool/sim/world.h"
#include "moonpool/task.h"
#include "moonpool/task_function.h"

namespace moonpool {

// What a check found: no violations is a pass.
struct CheckResult {
  std::vector<std::string> violations{};

  static CheckResult pass() { return {}; }
  static CheckResult fail(std::string violation) { return CheckResult{{std::move(violation)}}; }
  bool ok() const { return violations.empty(); }
};

class WorkloadContext {
 public:
  // Built by the runner for each seed and workload instance.
  WorkloadContext(ProcessContext& process, std::string name, std::size_t instance,
                  std::size_t instances, std::uint64_t seed, Event& chaosOver,
                  const Timeline& timeline, TargetedFaults& faults);
  WorkloadContext(const WorkloadContext&) = delete;
  WorkloadContext& operator=(const WorkloadContext&) = delete;

  ProcessContext& process() { return process_; }
  Providers providers() const { return process_.providers(); }
  // "client" for a single instance, "client-1".."client-N" otherwise.
  const std::string& name() const { return name_; }
  // 0-based instance number among this workload's instances, and their count.
  std::size_t instance() const { return instance_; }
  std::size_t instances() const { return instances_; }
  std::uint64_t seed() const { return seed_; }
  // Set when the chaos phase ends and the world starts settling: a run() that loops "while
  // faults happen" stops here. Set at the start of the run phase when there is no chaos.
  Event& chaosOver() { return *chaosOver_; }
  // The world's fault history so far (process.pause, net.partition, ... with their
  // simulated times): an oracle for check(), e.g. "every pause was detected". Reading it to
  // steer run() would let the test see what the system under test cannot.
  const Timeline& timeline() const { return *timeline_; }
  // Targeted faults on the seed's world (sim/targeted_faults.h), shared by every workload.
  TargetedFaults& faults() { return *faults_; }
  // The seed's shared object of type T (SimulationBuilder::sharedState<T>()): the same
  // object the processes see through ProcessContext::shared<T>().
  template <typename T>
  T& shared() {
    return process_.shared<T>();
  }

  // Per-seed, per-instance state, default-constructed on first use. One type per context
  // (asking for another type is a check failure).
  // T need not be copyable or movable.
  template <typename T>
  T& state() {
    if (!state_) state_ = std::make_unique<StateBox<T>>();
    auto* box = dynamic_cast<StateBox<T>*>(state_.get());
    MOONPOOL_CHECK(box != nullptr, "WorkloadContext::state<T>() used with two types");
    return box->value;
  }

  // Numbers for the report, merged over instances and seeds: summed, or the largest kept.
  void addMetric(const std::string& name, std::int64_t value);
  void maxMetric(const std::string& name, std::int64_t value);
  const std::map<std::string, Metric>& metrics() const { return metrics_; }

 private:
  ProcessContext& process_;
  std::string name_{};
  std::size_t instance_{};
  std::size_t instances_{};
  std::uint64_t seed_{};
  struct StateBase {
    virtual ~StateBase() = default;
  };
  template <typename T>
  struct StateBox final : StateBase {
    T value;  // value-initialized by make_unique<StateBox<T>>()
  };

  Event* chaosOver_;
  const Timeline* timeline_;
  TargetedFaults* faults_;
  std::unique_ptr<StateBase> state_{};
  std::map<std::string, Metric> metrics_{};
};

// Stored Task factories (task_function.h: std::function cannot hold them under clang's
// coroutine-lifetime checks).
using WorkloadStep = TaskFunction<Task<void>(WorkloadContext&)>;
using WorkloadCheck = TaskFunction<Task<CheckResult>(WorkloadContext&)>;

struct Workload {
  std::string name{};
  WorkloadStep setup{};   // optional
  WorkloadStep run{};     // required
  WorkloadCheck check{};  // optional
  std::size_t instances = 1;
  std::map<std::string, std::string> tags{};
};

}  // namespace moonpool
