// Assertions: the properties a simulation checks (runtime/ assertions layer, public).
//
// Assertions never abort. Each evaluation is counted in the assertion table (see
// assertions/table.h); at the end of a run the report (assertions/report.h) validates every
// site's contract. Semantics follow Antithesis:
//
//   macro                                   holds when            contract (end of run)
//   MOONPOOL_ALWAYS(c, msg)                 c                     never false; reached
//   MOONPOOL_ALWAYS_OR_UNREACHABLE(c, msg)  c                     never false
//   MOONPOOL_SOMETIMES(c, msg)              c                     true at least once
//   MOONPOOL_REACHABLE(msg)                 reached               reached at least once
//   MOONPOOL_UNREACHABLE(msg)               never                 never reached
//   MOONPOOL_ALWAYS_{GT,GE,LT,LE}(l, r, msg)   l op r             never false; reached
//   MOONPOOL_SOMETIMES_{GT,GE,LT,LE}(l, r, msg) l op r            true at least once
//   MOONPOOL_SOMETIMES_ALL(msg, c1, c2, ...)    all ci at once    all true at once, once
//   MOONPOOL_ALWAYS_SOME(msg, c1, c2, ...)      some ci           never all false; reached
//   MOONPOOL_SOMETIMES_EACH(msg, k1, k2, ...)   (each bucket)     reached; no bucket overflow
//   MOONPOOL_SOMETIMES_EACH_QUALITY(msg, q, k1, ...)  same, with a quality score per bucket
//
// Guidance for the explorer (a discovery calls the hook, see table.h):
//   - sometimes / reachable: the first time they hold;
//   - numeric sometimes: the watermark (the best left operand seen: the largest for GT/GE,
//     the smallest for LT/LE) improves. Numeric always kinds keep a watermark too (closest
//     approach to failing), but it is never a discovery;
//   - sometimes_all: the frontier (most conditions true at once) rises;
//   - sometimes_each: a new identity combination (k1, k2, ...) gets its bucket, or a
//     bucket's quality q rises (higher is better). Keys and quality are integers (recorded as
//     int64, saturating); a site has kBucketsPerSiteMax buckets and counts overflows.
//   - always / unreachable kinds never discover anything; their failures count as the run's
//     invariant violations (runViolationCount()).
//
// Every message must be a string literal: it is part of the site's constant record, which the
// linker collects into the catalog before main, so sites never reached still appear in
// reports. Identity is the record itself, never a hash of the message. The conditions are
// stringized for reports. Numeric operands compare in their own types (integers without
// signed/unsigned surprises).
//
// Cost: a satisfied MOONPOOL_ALWAYS is one load, one address computation and one relaxed
// atomic add (test/bench/assertions_bench.cpp).
#pragma once

#include <source_location>

#include "moonpool/assertions/site.h"
#include "moonpool/assertions/table.h"
#include "moonpool/internal/assertion_record.h"

// The site record of one expansion: constant-initialized, kept by the linker (`used`) in the
// catalog section, excluded from ASan's global redzones (which would break the tiling).
// `"" message` rejects anything but a string literal.
#define MOONPOOL_ASSERTION_SITE_(kind, arity, buckets, message, text)                    \
  [[gnu::used, gnu::section("moonpool_assert_sites"), clang::no_sanitize("address")]]    \
  static constexpr ::moonpool::AssertionSite moonpool_assertion_site_ {                  \
    kind, static_cast<std::uint8_t>(arity), static_cast<std::uint16_t>(buckets), 0,      \
        ::std::source_location::current(), "" message, text                             \
  }

// Each outcome is its own call, so in code built with SanitizerCoverage each is its own
// edge on the assertion's line: coverage reports show which outcomes a run reached (an
// always that failed, a sometimes that held) and which seed or recipe reached them first.
#define MOONPOOL_ASSERT_BOOL_(recorder, kind, condition, message)                        \
  do {                                                                                   \
    MOONPOOL_ASSERTION_SITE_(kind, 1, 0, message, #condition);                           \
    if (static_cast<bool>(condition)) {                                                  \
      ::moonpool::internal::recorder(true, moonpool_assertion_site_);                    \
    } else {                                                                             \
      ::moonpool::internal::recorder(false, moonpool_assertion_site_);                   \
    }                                                                                    \
  } while (false)

// c holds every time it is evaluated, and it is evaluated at least once.
#define MOONPOOL_ALWAYS(condition, message) \
  MOONPOOL_ASSERT_BOOL_(recordAlways, ::moonpool::AssertKind::kAlways, condition, message)

// c holds every time it is evaluated; never evaluating it is fine.
#define MOONPOOL_ALWAYS_OR_UNREACHABLE(condition, message)                                 \
  MOONPOOL_ASSERT_BOOL_(recordAlways, ::moonpool::AssertKind::kAlwaysOrUnreachable, condition, \
                        message)

// c holds at least once.
#define MOONPOOL_SOMETIMES(condition, message) \
  MOONPOOL_ASSERT_BOOL_(recordSometimes, ::moonpool::AssertKind::kSometimes, condition, message)

// This point is reached at least once.
#define MOONPOOL_REACHABLE(message)                                                   \
  do {                                                                                \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kReachable, 0, 0, message, "");  \
    ::moonpool::internal::recordReachable(moonpool_assertion_site_);                  \
  } while (false)

// This point is never reached.
#define MOONPOOL_UNREACHABLE(message)                                                 \
  do {                                                                                \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kUnreachable, 0, 0, message, ""); \
    ::moonpool::internal::recordUnreachable(moonpool_assertion_site_);                \
  } while (false)

#define MOONPOOL_ASSERT_NUMERIC_(kind, left, op, right, message)                           \
  do {                                                                                     \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kind, 0, 0, message,                  \
                             #left " " #op " " #right);                                    \
    ::moonpool::internal::recordNumeric<::moonpool::AssertKind::kind>(                     \
        moonpool_assertion_site_, (left), (right));                                        \
  } while (false)

// left op right every time (and at least once).
#define MOONPOOL_ALWAYS_GT(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kAlwaysGreaterThan, left, >, right, message)
#define MOONPOOL_ALWAYS_GE(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kAlwaysGreaterOrEqual, left, >=, right, message)
#define MOONPOOL_ALWAYS_LT(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kAlwaysLessThan, left, <, right, message)
#define MOONPOOL_ALWAYS_LE(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kAlwaysLessOrEqual, left, <=, right, message)

// left op right at least once; the watermark guides the explorer toward it.
#define MOONPOOL_SOMETIMES_GT(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kSometimesGreaterThan, left, >, right, message)
#define MOONPOOL_SOMETIMES_GE(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kSometimesGreaterOrEqual, left, >=, right, message)
#define MOONPOOL_SOMETIMES_LT(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kSometimesLessThan, left, <, right, message)
#define MOONPOOL_SOMETIMES_LE(left, right, message) \
  MOONPOOL_ASSERT_NUMERIC_(kSometimesLessOrEqual, left, <=, right, message)

// The number of variadic arguments, computed without evaluating them.
#define MOONPOOL_ARITY_(...) decltype(::moonpool::internal::arityOf(__VA_ARGS__))::value

// All conditions hold at once at least once; the frontier guides the explorer toward it.
#define MOONPOOL_SOMETIMES_ALL(message, ...)                                                 \
  do {                                                                                       \
    static_assert(MOONPOOL_ARITY_(__VA_ARGS__) >= 1 &&                                       \
                      MOONPOOL_ARITY_(__VA_ARGS__) <= ::moonpool::kConditionsMax,            \
                  "sometimes_all takes 1 to kConditionsMax conditions");                     \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kSometimesAll,                          \
                             MOONPOOL_ARITY_(__VA_ARGS__), 0, message, #__VA_ARGS__);        \
    ::moonpool::internal::recordSometimesAll(moonpool_assertion_site_,                       \
                                             ::moonpool::internal::countTrue(__VA_ARGS__));  \
  } while (false)

// At least one condition holds every time (and the site is reached).
#define MOONPOOL_ALWAYS_SOME(message, ...)                                                   \
  do {                                                                                       \
    static_assert(MOONPOOL_ARITY_(__VA_ARGS__) >= 1 &&                                       \
                      MOONPOOL_ARITY_(__VA_ARGS__) <= ::moonpool::kConditionsMax,            \
                  "always_some takes 1 to kConditionsMax conditions");                       \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kAlwaysSome,                            \
                             MOONPOOL_ARITY_(__VA_ARGS__), 0, message, #__VA_ARGS__);        \
    ::moonpool::internal::recordAlwaysSome(moonpool_assertion_site_,                         \
                                           ::moonpool::internal::countTrue(__VA_ARGS__));    \
  } while (false)

#define MOONPOOL_SOMETIMES_EACH_(message, quality, ...)                                      \
  do {                                                                                       \
    MOONPOOL_ASSERTION_SITE_(::moonpool::AssertKind::kSometimesEach,                         \
                             MOONPOOL_ARITY_(__VA_ARGS__), ::moonpool::kBucketsPerSiteMax,   \
                             message, #__VA_ARGS__);                                         \
    ::moonpool::internal::recordEach(moonpool_assertion_site_, quality, __VA_ARGS__);        \
  } while (false)

// One bucket per distinct combination of the key values; each new one is a discovery.
#define MOONPOOL_SOMETIMES_EACH(message, ...) \
  MOONPOOL_SOMETIMES_EACH_(message, ::moonpool::internal::kQualityNone, __VA_ARGS__)

// As MOONPOOL_SOMETIMES_EACH, and a rise of a bucket's quality (an integer, higher is better,
// INT64_MIN means "no score") is a discovery too. Quality is not part of the identity.
#define MOONPOOL_SOMETIMES_EACH_QUALITY(message, quality, ...) \
  MOONPOOL_SOMETIMES_EACH_(message,                            \
                           ::moonpool::internal::toInt64Saturating(quality), __VA_ARGS__)
