// Time vocabulary for moonpool (runtime/ core layer).
//
// All simulated and real time is carried in these two types so that units live in the type
// system: a `Duration` is a signed count of nanoseconds, a `TimePoint` a `Duration` since the
// start of the run (simulation start, or the moment a production executor was created). There
// is deliberately no calendar clock here: service code that needs wall-clock dates must get
// them from a provider, never from std::chrono::system_clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace moonpool {

using Duration = std::chrono::nanoseconds;

// The clock type behind TimePoint. It has no now(): the current time always comes from a
// TimeProvider (simulated or real), never from an ambient clock.
struct RunClock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<RunClock, Duration>;
  static constexpr bool is_steady = true;
};

using TimePoint = RunClock::time_point;

inline constexpr TimePoint kTimeZero{};

// A range of durations for random draws: RandomProvider::durationIn draws uniformly in
// [min, max), or returns min when min == max (no draw). Option structs hold one instead of a
// lo/hi pair; whoever validates the options checks valid().
struct DurationRange {
  Duration min{0};
  Duration max{0};

  constexpr bool valid() const { return min.count() >= 0 && min <= max; }
  friend constexpr bool operator==(const DurationRange&, const DurationRange&) = default;
};

// "12.345678s" style rendering used in reports and traces.
std::string formatTime(TimePoint t);
std::string formatDuration(Duration d);

}  // namespace moonpool
