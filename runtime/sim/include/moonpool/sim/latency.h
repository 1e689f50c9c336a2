// Latency distributions for simulated devices and links (runtime/ simulated world).
//
// A LatencyModel is a value in an options struct; sample() draws from the main stream so a
// latency is part of the counted, replayable randomness. Shapes:
//   - uniform in [lo, hi);
//   - exponential: lo + mean * (-ln u), capped at lo + 50 * mean (no unbounded tail);
//   - bimodal: uniform [lo, hi) usually, uniform in `slow` with probability slowProbability.
#pragma once

#include <string>

#include "moonpool/random.h"
#include "moonpool/time.h"

namespace moonpool {

struct LatencyModel {
  enum class Shape : std::uint8_t { kUniform, kExponential, kBimodal };

  Shape shape = Shape::kUniform;
  Duration lo{0};
  Duration hi{0};                 // uniform/bimodal fast range end; exponential: the mean
  DurationRange slow{};           // bimodal only: the slow range
  Probability slowProbability{};  // bimodal: probability of the slow range

  static LatencyModel uniform(Duration lo, Duration hi);
  static LatencyModel exponential(Duration min, Duration mean);
  static LatencyModel bimodal(Duration lo, Duration hi, DurationRange slow,
                              Probability slowProbability);
  static LatencyModel fixed(Duration value) { return uniform(value, value); }

  Duration sample(RandomProvider& random) const;
  // A random shape around this model's scale (used by randomized/swarm configurations):
  // uniform, exponential with the same mean, or bimodal with a 10x slow tail.
  LatencyModel randomVariant(RandomStream& config) const;
  // "uniform[1ms,11ms)" style, for printing derived configurations next to the seed.
  std::string toString() const;
};

}  // namespace moonpool
