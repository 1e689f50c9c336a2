// buggify: fault points inside service code (runtime/ core layer).
//
//   if (buggify()) co_await time.sleep(std::chrono::seconds(2));   // a rare slow path
//   batch = buggifyKnob(batch, std::size_t{1}, std::size_t{10'000}); // an extreme knob
//
// In a simulation, each site (file:line of the call, from std::source_location) is switched
// on for the whole run with the world's activation probability (default 0.5) the first time
// it is evaluated; an active site then fires with the call's firing probability (default
// 0.25) each time. Both draws come from the counted main stream, so they replay. Which
// sites were evaluated, activated and fired goes into the run's report. In production (or
// with no simulated world installed) buggify() is always false and knobs keep their value.
//
// buggify() reaches the simulation through the thread's current executor, the one ambient
// value in moonpool (executor.h); a plain function, no macro (STYLE.md rule 19).
#pragma once

#include <cstdint>
#include <source_location>
#include <type_traits>

#include "moonpool/random.h"
#include "moonpool/time.h"

namespace moonpool {

inline constexpr Probability kBuggifyFiringDefault{0.25};

// What a simulated world installs on its executor to answer buggify().
class BuggifyHook {
 public:
  virtual ~BuggifyHook() = default;
  // Activation (first evaluation in the run) and firing, as described above.
  virtual bool evaluate(Probability firing, const std::source_location& where) = 0;
  // A draw from the main stream for knob values: uniform in [0, bound).
  virtual std::uint64_t draw(std::uint64_t bound) = 0;
};

// The current executor's hook, or null (production, or no world).
BuggifyHook* currentBuggifyHook();

inline bool buggify(Probability firing = kBuggifyFiringDefault,
                    std::source_location where = std::source_location::current()) {
  BuggifyHook* hook = currentBuggifyHook();
  return hook != nullptr && hook->evaluate(firing, where);
}

// `normal`, unless the site fires: then one of the two extremes, chosen at random. For
// integers, floating point and Duration.
template <typename T>
T buggifyKnob(T normal, T extremeLow, T extremeHigh,
              std::source_location where = std::source_location::current()) {
  BuggifyHook* hook = currentBuggifyHook();
  if (hook == nullptr || !hook->evaluate(kBuggifyFiringDefault, where)) return normal;
  return hook->draw(2) == 0 ? extremeLow : extremeHigh;
}

}  // namespace moonpool
