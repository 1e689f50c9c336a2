// Randomness: named, counted, seeded streams (runtime/ core layer).
//
// Streams (STYLE.md rule 9). In a simulation, every stream is derived from the run's seed:
//   - the *main* stream (RandomProvider of the simulation): the only stream that drives
//     decisions of the system under test and of fault injection. It counts its draws; the
//     explorer's fork points and replay recipes are (draw count, new seed) pairs.
//   - "scheduler": the simulated executor's choice of the next ready task and of whenAny
//     winners. Uncounted, so scheduling never shifts main-stream counts.
//   - any stream obtained with RandomProvider::derive(name): debug, validation and
//     configuration draws (swarm masks), uncounted.
// Derivation: deriveSeed(seed, name) = SplitMix64(seed XOR FNV-1a-64(name)).
// There is no default-seeded generator anywhere: a RandomStream always takes a seed.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/time.h"

namespace moonpool {

// A probability in [0, 1], checked at construction. Every probability in an option struct
// has this type, so a rate is validated where it is written, never where it is drawn.
// Construction from a double is explicit (`.lossProbability = Probability{0.01}`); the
// default is 0, never, so `Probability x{};` declares a fault that is off.
class Probability {
 public:
  constexpr Probability() = default;
  constexpr explicit Probability(double value) : value_(value) {
    MOONPOOL_CHECK(value >= 0.0 && value <= 1.0, "a probability must be in [0, 1]");
  }
  constexpr double value() const { return value_; }
  friend constexpr bool operator==(Probability, Probability) = default;
  friend constexpr auto operator<=>(Probability, Probability) = default;

 private:
  double value_ = 0.0;
};

std::uint64_t splitMix64(std::uint64_t& state);
std::uint64_t deriveSeed(std::uint64_t seed, std::string_view streamName);

// xoshiro256** seeded through SplitMix64: fast, 256-bit state, passes BigCrush.
class RandomStream {
 public:
  explicit RandomStream(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, bound); bound > 0. Unbiased (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [0, 1), 53 bits.
  double unit();

 private:
  std::uint64_t state_[4];
};

// The randomness provider. Implementations supply one primitive, `nextU64`; everything else
// is derived from it here so that simulation and production draw identically.
class RandomProvider {
 public:
  virtual ~RandomProvider() = default;

  // A uniform 64-bit draw from the main stream (counted in simulation).
  virtual std::uint64_t nextU64() = 0;
  // An independent, uncounted stream named `name` (same name, same run: same stream).
  virtual RandomStream derive(std::string_view name) = 0;

  // Uniform in [0, bound); bound > 0.
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi); lo < hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // Uniform in [lo, hi) of a duration.
  Duration durationBetween(Duration lo, Duration hi);
  // Uniform in [range.min, range.max) when min < max (one durationBetween draw); exactly
  // range.min, drawing nothing, when min == max. range.valid().
  Duration durationIn(DurationRange range);
  // Uniform in [0, 1).
  double unit();
  // True with probability p. Draws nothing when p is 0 or 1, so a fault that is off costs
  // no draw and shifts no replay.
  bool chance(Probability p);
  // A uniformly chosen index into a non-empty range of `size` elements.
  std::size_t index(std::size_t size) { return static_cast<std::size_t>(below(size)); }
  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::size_t j = index(i);
      using std::swap;
      swap(items[i - 1], items[j]);
    }
  }
};

}  // namespace moonpool
