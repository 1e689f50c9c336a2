// Assertion sites: the constant per-call-site record and the assertion kinds (runtime/
// assertions layer, public).
//
// Every MOONPOOL_ASSERT-family macro expansion defines one `AssertionSite` as a function-local
// `static constexpr` object placed in the linker section `moonpool_assert_sites`. The linker
// concatenates those records from every object file into one array that the runtime reads
// through `__start_moonpool_assert_sites` / `__stop_moonpool_assert_sites`, so the complete
// catalog exists before `main` with no constructor per site and no link anchors (the way
// SanitizerCoverage finds its guard arrays).
//
// A site's identity is the address of its record: two sites never merge because their
// messages hash alike. Reports still merge records that share kind, location and message
// (template instantiations of one source line).
//
// Caveat: a site inside an inline function or template that is never emitted (never
// odr-used / instantiated) produces no record and is absent from the catalog; a site in an
// ordinary function that is never called is present.
#pragma once

#include <cstdint>
#include <source_location>
#include <string_view>

namespace moonpool {

// What a site asserts. The numeric kinds carry their comparison; the contract of each kind
// (pass / fail / must-hit) is listed in `assertions.h`.
enum class AssertKind : std::uint8_t {
  kAlways,
  kAlwaysOrUnreachable,
  kSometimes,
  kReachable,
  kUnreachable,
  kAlwaysGreaterThan,
  kAlwaysGreaterOrEqual,
  kAlwaysLessThan,
  kAlwaysLessOrEqual,
  kSometimesGreaterThan,
  kSometimesGreaterOrEqual,
  kSometimesLessThan,
  kSometimesLessOrEqual,
  kSometimesAll,
  kAlwaysSome,
  kSometimesEach,
};

// Number of AssertKind values; keep in step with the enum (checked in kindName).
inline constexpr std::uint32_t kAssertKindCount = 16;

// Most identity keys one sometimes_each bucket may have (values beyond fail to compile).
inline constexpr std::uint32_t kBucketKeysMax = 8;
// Buckets each sometimes_each site gets in the table. A new key combination beyond this is
// counted as an overflow and reported, never silently dropped from the counts.
inline constexpr std::uint32_t kBucketsPerSiteMax = 64;
// Most conditions one sometimes_all / always_some site may combine.
inline constexpr std::uint32_t kConditionsMax = 32;

// The per-site record. Constant-initialized by the macros and never written at run time.
// Size and alignment are both kAssertionSiteBytes so that the records of all translation
// units form a gap-free array in the section (the table maps record i to counters i by
// address arithmetic).
struct alignas(32) AssertionSite {
  AssertKind kind;
  // sometimes_all / always_some: the number of conditions; sometimes_each: the number of
  // identity keys; otherwise 0 (numeric) or 1 (boolean).
  std::uint8_t arity;
  // sometimes_each: the number of buckets reserved for this site; otherwise 0.
  std::uint16_t bucketsMax;
  std::uint32_t reserved;
  // Where the macro was expanded (file, function, line, column).
  std::source_location where;
  // The user's message, a string literal.
  const char* message;
  // The stringized condition ("a > b", "x, y" for compound kinds and keys), or "".
  const char* condition;
};

inline constexpr std::uint32_t kAssertionSiteBytes = 32;
static_assert(sizeof(AssertionSite) == kAssertionSiteBytes, "records must tile the section");
static_assert(alignof(AssertionSite) == kAssertionSiteBytes, "records must tile the section");

// Lower-case snake_case name of a kind, as used in reports ("always", "sometimes_gt", ...).
std::string_view kindName(AssertKind kind);

// True for the kinds whose failure is a definite bug (always*, always_some, unreachable).
constexpr bool isInvariantKind(AssertKind kind) {
  switch (kind) {
    case AssertKind::kAlways:
    case AssertKind::kAlwaysOrUnreachable:
    case AssertKind::kUnreachable:
    case AssertKind::kAlwaysGreaterThan:
    case AssertKind::kAlwaysGreaterOrEqual:
    case AssertKind::kAlwaysLessThan:
    case AssertKind::kAlwaysLessOrEqual:
    case AssertKind::kAlwaysSome:
      return true;
    default:
      return false;
  }
}

// True for the kinds whose contract requires being evaluated at least once per run.
constexpr bool isMustHitKind(AssertKind kind) {
  return kind != AssertKind::kAlwaysOrUnreachable && kind != AssertKind::kUnreachable;
}

// True for the numeric sometimes kinds (their watermark is guidance and a discovery).
constexpr bool isNumericSometimes(AssertKind kind) {
  return kind >= AssertKind::kSometimesGreaterThan && kind <= AssertKind::kSometimesLessOrEqual;
}

// True for the numeric always kinds (their watermark is the closest approach to failing).
constexpr bool isNumericAlways(AssertKind kind) {
  return kind >= AssertKind::kAlwaysGreaterThan && kind <= AssertKind::kAlwaysLessOrEqual;
}

// Which way a numeric site's watermark improves. Sometimes kinds track the value that is
// closest to (or furthest into) success; always kinds track the closest approach to failure.
enum class WatermarkDirection : std::uint8_t { kNone, kMaximize, kMinimize };

constexpr WatermarkDirection watermarkDirection(AssertKind kind) {
  switch (kind) {
    case AssertKind::kSometimesGreaterThan:
    case AssertKind::kSometimesGreaterOrEqual:
    case AssertKind::kAlwaysLessThan:
    case AssertKind::kAlwaysLessOrEqual:
      return WatermarkDirection::kMaximize;
    case AssertKind::kSometimesLessThan:
    case AssertKind::kSometimesLessOrEqual:
    case AssertKind::kAlwaysGreaterThan:
    case AssertKind::kAlwaysGreaterOrEqual:
      return WatermarkDirection::kMinimize;
    default:
      return WatermarkDirection::kNone;
  }
}

}  // namespace moonpool
