// What each assertion macro calls (internal; runtime/ assertions layer).
//
// The common outcome of every kind (an always that holds, a sometimes already discovered) is
// inline: map the record to its counters, one relaxed atomic add, return. Everything rarer
// (a failure, a first discovery, a better watermark, a bucket lookup) is out of line in
// runtime/assertions/src/record.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "moonpool/assertions/site.h"
#include "moonpool/internal/assertion_region.h"

namespace moonpool::internal {

// ---- out of line (record.cpp) --------------------------------------------------------------

// An invariant kind did not hold (or an unreachable site was reached): counts the failure,
// the run's violation, and the first failure's details. Never aborts.
void invariantFailed(const AssertionSite& site, SiteCounters& counters, std::int64_t left,
                     std::int64_t right);
// A sometimes/reachable site holds for the first time since the last reset: discovery.
void firstTrue(const AssertionSite& site, SiteCounters& counters);
// A numeric site saw a value that may beat its watermark; a sometimes kind discovers on a
// strict improvement.
void watermarkSeen(const AssertionSite& site, SiteCounters& counters, std::int64_t value);
// A sometimes_all site saw more conditions true at once than ever: discovery.
void frontierSeen(const AssertionSite& site, SiteCounters& counters, std::uint32_t trueCount);
// A sometimes_each evaluation: finds or claims the bucket of `keys`, updates its quality.
void eachSeen(const AssertionSite& site, const std::int64_t* keys, std::uint32_t keyCount,
              std::int64_t quality);

// ---- conversions ---------------------------------------------------------------------------

// Numeric operands are compared in their own types but recorded as int64, saturating (a
// floating value is truncated toward zero; NaN records as 0).
template <typename T>
std::int64_t toInt64Saturating(const T& value) {
  static_assert(std::is_arithmetic_v<T>, "numeric assertions take arithmetic operands");
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(value)) return 0;
    if (value >= static_cast<T>(9.2e18)) return kMax;
    if (value <= static_cast<T>(-9.2e18)) return kMin;
    return static_cast<std::int64_t>(value);
  } else if constexpr (std::is_unsigned_v<T>) {
    return std::cmp_greater(value, kMax) ? kMax : static_cast<std::int64_t>(value);
  } else {
    return static_cast<std::int64_t>(value);
  }
}

// left OP right for the comparison of a numeric kind; integers compare without the usual
// signed/unsigned surprises.
template <AssertKind kKind, typename A, typename B>
bool numericHolds(const A& left, const B& right) {
  static_assert(std::is_arithmetic_v<A> && std::is_arithmetic_v<B>,
                "numeric assertions take arithmetic operands");
  constexpr bool kIntegers = std::is_integral_v<A> && std::is_integral_v<B>;
  if constexpr (kKind == AssertKind::kAlwaysGreaterThan ||
                kKind == AssertKind::kSometimesGreaterThan) {
    if constexpr (kIntegers) return std::cmp_greater(left, right);
    else return left > right;
  } else if constexpr (kKind == AssertKind::kAlwaysGreaterOrEqual ||
                       kKind == AssertKind::kSometimesGreaterOrEqual) {
    if constexpr (kIntegers) return std::cmp_greater_equal(left, right);
    else return left >= right;
  } else if constexpr (kKind == AssertKind::kAlwaysLessThan ||
                       kKind == AssertKind::kSometimesLessThan) {
    if constexpr (kIntegers) return std::cmp_less(left, right);
    else return left < right;
  } else {
    static_assert(kKind == AssertKind::kAlwaysLessOrEqual ||
                  kKind == AssertKind::kSometimesLessOrEqual);
    if constexpr (kIntegers) return std::cmp_less_equal(left, right);
    else return left <= right;
  }
}

// ---- inline recorders (one per macro family) ----------------------------------------------

inline void recordAlways(bool holds, const AssertionSite& site) {
  SiteCounters& counters = countersFor(site);
  if (holds) [[likely]] {
    bump(counters.passes);
    return;
  }
  invariantFailed(site, counters, 0, 0);
}

inline void recordSometimes(bool holds, const AssertionSite& site) {
  SiteCounters& counters = countersFor(site);
  if (!holds) {
    bump(counters.fails);
    return;
  }
  bump(counters.passes);
  if ((loadWord32(counters.flags) & kFlagDiscovered) == 0) [[unlikely]] {
    firstTrue(site, counters);
  }
}

// Reachable counts a pass per arrival (and discovers on the first).
inline void recordReachable(const AssertionSite& site) { recordSometimes(true, site); }

// Unreachable counts a failure per arrival: every arrival is a violation.
inline void recordUnreachable(const AssertionSite& site) {
  invariantFailed(site, countersFor(site), 0, 0);
}

template <AssertKind kKind, typename A, typename B>
void recordNumeric(const AssertionSite& site, const A& left, const B& right) {
  const bool holds = numericHolds<kKind>(left, right);
  const std::int64_t value = toInt64Saturating(left);
  SiteCounters& counters = countersFor(site);
  const std::int64_t mark = loadSigned(counters.watermark);
  constexpr WatermarkDirection kDirection = watermarkDirection(kKind);
  static_assert(kDirection != WatermarkDirection::kNone);
  if (kDirection == WatermarkDirection::kMaximize ? value > mark : value < mark) {
    watermarkSeen(site, counters, value);
  }
  if constexpr (isNumericAlways(kKind)) {
    if (holds) [[likely]] {
      bump(counters.passes);
      return;
    }
    invariantFailed(site, counters, value, toInt64Saturating(right));
  } else {
    recordSometimes(holds, site);
  }
}

// Declared only: its type carries the number of arguments, for unevaluated use in macros.
template <typename... Conditions>
std::integral_constant<std::uint32_t, sizeof...(Conditions)> arityOf(const Conditions&...);

template <typename... Conditions>
std::uint32_t countTrue(const Conditions&... conditions) {
  return (0u + ... + (static_cast<bool>(conditions) ? 1u : 0u));
}

inline void recordSometimesAll(const AssertionSite& site, std::uint32_t trueCount) {
  SiteCounters& counters = countersFor(site);
  if (trueCount == site.arity) {
    bump(counters.passes);
  } else {
    bump(counters.fails);
  }
  if (trueCount > loadWord32(counters.frontier)) frontierSeen(site, counters, trueCount);
}

inline void recordAlwaysSome(const AssertionSite& site, std::uint32_t trueCount) {
  SiteCounters& counters = countersFor(site);
  if (trueCount > 0) [[likely]] {
    bump(counters.passes);
    return;
  }
  invariantFailed(site, counters, 0, 0);
}

template <typename... Keys>
void recordEach(const AssertionSite& site, std::int64_t quality, const Keys&... keys) {
  static_assert(sizeof...(Keys) >= 1, "sometimes_each needs at least one identity key");
  static_assert(sizeof...(Keys) <= kBucketKeysMax, "too many identity keys (kBucketKeysMax)");
  const std::int64_t values[] = {toInt64Saturating(keys)...};
  eachSeen(site, values, sizeof...(Keys), quality);
}

}  // namespace moonpool::internal
