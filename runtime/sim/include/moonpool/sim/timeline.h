// The timeline of a simulated run: faults and, when enabled, a step-by-step trace.
//
// Every injected fault (a clog, a partition, a reset, a bit flip, a lost write, a reboot, a
// buggify site firing...) is recorded with the simulated time, a kind ("net.partition"), the
// subject it hit ("10.0.1.1->10.0.1.2", "kv-1") and a detail. Counts per kind are always
// kept (they go into the report); the events themselves are stored up to kEventsMax and the
// overflow is counted, never silent. Trace lines (trace()) are stored only when tracing is on
// (the runner's --trace flag), for reading a failing seed step by step.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/time.h"

namespace moonpool {

class Executor;

struct TimelineEvent {
  TimePoint time;
  std::string kind;
  std::string subject;
  std::string detail;
  bool fault = true;  // false for trace lines

  // "   12.000345s  net.partition  10.0.1.1->10.0.1.2  for 1.2s"
  std::string toString() const;
};

class Timeline {
 public:
  static constexpr std::size_t kEventsMax = 100'000;

  explicit Timeline(Executor& executor) : executor_(executor) {}
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  void fault(std::string_view kind, std::string subject, std::string detail = {});
  void trace(std::string_view kind, std::string subject, std::string detail = {});

  // Called at every fault with its kind and how many of that kind this run has seen (the
  // explorer splits at fault decisions). Null: none.
  using FaultListener = void (*)(void* context, std::string_view kind, std::uint64_t count);
  void setFaultListener(FaultListener listener, void* context) {
    faultListener_ = listener;
    faultListenerContext_ = context;
  }
  void setTracing(bool on) { tracing_ = on; }
  bool tracing() const { return tracing_; }

  const std::vector<TimelineEvent>& events() const { return events_; }
  // Faults per kind, including those past kEventsMax.
  const std::map<std::string, std::uint64_t, std::less<>>& faultCounts() const {
    return faultCounts_;
  }
  std::uint64_t faultsTotal() const { return faultsTotal_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void store(std::string_view kind, std::string subject, std::string detail, bool fault);

  Executor& executor_;
  bool tracing_ = false;
  std::vector<TimelineEvent> events_;
  std::map<std::string, std::uint64_t, std::less<>> faultCounts_;
  std::uint64_t faultsTotal_ = 0;
  std::uint64_t dropped_ = 0;
  FaultListener faultListener_ = nullptr;
  void* faultListenerContext_ = nullptr;
};

}  // namespace moonpool
