// Random streams (see random.h for the list of streams and how they are derived).
#include "moonpool/random.h"

#include <bit>

#include "moonpool/internal/fnv1a.h"

namespace moonpool {

std::uint64_t splitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t deriveSeed(std::uint64_t seed, std::string_view streamName) {
  std::uint64_t state = seed ^ internal::fnv1a(streamName);
  return splitMix64(state);
}

RandomStream::RandomStream(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (auto& word : state_) word = splitMix64(state);
  // xoshiro's only forbidden state is all zeros; SplitMix64 cannot produce four zeros in a
  // row, but the invariant is cheap to check.
  MOONPOOL_CHECK((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
}

std::uint64_t RandomStream::next() {
  const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

namespace {

// Lemire's nearly-divisionless unbiased bounded draw.
template <typename Draw>
std::uint64_t boundedDraw(std::uint64_t bound, Draw&& draw) {
  MOONPOOL_CHECK_GT(bound, std::uint64_t{0}, "a bounded draw needs a positive bound");
  __uint128_t product = static_cast<__uint128_t>(draw()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      product = static_cast<__uint128_t>(draw()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

double unitFrom(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace

std::uint64_t RandomStream::below(std::uint64_t bound) {
  return boundedDraw(bound, [this] { return next(); });
}

double RandomStream::unit() { return unitFrom(next()); }

std::uint64_t RandomProvider::below(std::uint64_t bound) {
  return boundedDraw(bound, [this] { return nextU64(); });
}

std::int64_t RandomProvider::between(std::int64_t lo, std::int64_t hi) {
  MOONPOOL_CHECK_LT(lo, hi, "between(lo, hi) needs lo < hi");
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span));
}

Duration RandomProvider::durationBetween(Duration lo, Duration hi) {
  return Duration{between(lo.count(), hi.count())};
}

Duration RandomProvider::durationIn(DurationRange range) {
  MOONPOOL_CHECK(range.valid(), "a duration range needs 0 <= min <= max");
  if (range.min == range.max) return range.min;
  return durationBetween(range.min, range.max);
}

double RandomProvider::unit() { return unitFrom(nextU64()); }

bool RandomProvider::chance(Probability p) {
  if (p.value() <= 0.0) return false;
  if (p.value() >= 1.0) return true;
  return unit() < p.value();
}

}  // namespace moonpool
