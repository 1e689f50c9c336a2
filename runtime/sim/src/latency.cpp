// Latency distributions (see sim/latency.h).
#include "moonpool/sim/latency.h"

#include <algorithm>
#include <cmath>

#include "moonpool/check.h"

namespace moonpool {

namespace {

constexpr double kExponentialCapMeans = 50.0;

Duration uniformIn(RandomProvider& random, Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return random.durationBetween(lo, hi);
}

Duration scaled(Duration d, double factor) {
  return Duration(static_cast<Duration::rep>(static_cast<double>(d.count()) * factor));
}

}  // namespace

LatencyModel LatencyModel::uniform(Duration lo, Duration hi) {
  MOONPOOL_CHECK(lo.count() >= 0 && hi >= lo, "uniform latency needs 0 <= lo <= hi");
  LatencyModel m;
  m.shape = Shape::kUniform;
  m.lo = lo;
  m.hi = hi;
  return m;
}

LatencyModel LatencyModel::exponential(Duration min, Duration mean) {
  MOONPOOL_CHECK(min.count() >= 0 && mean.count() >= 0, "exponential latency needs min, mean >= 0");
  LatencyModel m;
  m.shape = Shape::kExponential;
  m.lo = min;
  m.hi = mean;
  return m;
}

LatencyModel LatencyModel::bimodal(Duration lo, Duration hi, DurationRange slow,
                                   Probability slowProbability) {
  MOONPOOL_CHECK(lo.count() >= 0 && hi >= lo && slow.valid() && slow.min >= lo,
                 "bimodal latency needs 0 <= lo <= hi and lo <= slow.min <= slow.max");
  LatencyModel m;
  m.shape = Shape::kBimodal;
  m.lo = lo;
  m.hi = hi;
  m.slow = slow;
  m.slowProbability = slowProbability;
  return m;
}

Duration LatencyModel::sample(RandomProvider& random) const {
  switch (shape) {
    case Shape::kUniform:
      return uniformIn(random, lo, hi);
    case Shape::kExponential: {
      if (hi.count() == 0) return lo;
      // 1 - unit() is in (0, 1], so the log is finite.
      const double draw = -std::log(1.0 - random.unit());
      return lo + scaled(hi, std::min(draw, kExponentialCapMeans));
    }
    case Shape::kBimodal:
      if (random.chance(slowProbability)) {
        return random.durationIn(slow);
      }
      return uniformIn(random, lo, hi);
  }
  internal::checkFailed("shape", "unknown latency shape", std::source_location::current());
}

LatencyModel LatencyModel::randomVariant(RandomStream& config) const {
  const Duration width = std::max(hi - lo, Duration(1));
  switch (config.below(3)) {
    case 0:
      return uniform(lo, hi);
    case 1:
      return exponential(lo, width / 2);
    default: {
      // A slow tail ten times the fast range's end, hit 0.1%..2% of the time.
      const double p = 0.001 + config.unit() * 0.019;
      return bimodal(lo, hi, DurationRange{hi, std::max(hi * 10, hi + Duration(1))},
                     Probability(p));
    }
  }
}

std::string LatencyModel::toString() const {
  switch (shape) {
    case Shape::kUniform:
      return "uniform[" + formatDuration(lo) + "," + formatDuration(hi) + ")";
    case Shape::kExponential:
      return "exponential(min " + formatDuration(lo) + ", mean " + formatDuration(hi) + ")";
    case Shape::kBimodal:
      return "bimodal[" + formatDuration(lo) + "," + formatDuration(hi) + ") slow[" +
             formatDuration(slow.min) + "," + formatDuration(slow.max) + ") p=" +
             std::to_string(slowProbability.value());
  }
  return "?";
}

}  // namespace moonpool
