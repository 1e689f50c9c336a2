// Assertion reports and end-of-run contract validation (runtime/ assertions layer, public).
//
// collectAssertionReport() snapshots the table into plain values, one entry per source site:
// records that share kind, file, line, column and message (template instantiations of one
// line) are merged. Order is deterministic: by file, line, column, message, kind; never by
// address or section order. Buckets are sorted by their key values.
//
// Determinism caveat: hit counts are exact; "first failure" ordinals and stamps on a shared
// region reflect whichever timeline failed first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/assertions/site.h"

namespace moonpool {

// A site's verdict for the run.
enum class SiteStatus : std::uint8_t {
  kPass,
  kFail,            // an invariant failed (or an unreachable site was reached)
  kNeverReached,    // a must-hit site was never evaluated
  kNeverTrue,       // a sometimes site was evaluated but never held
  kBucketOverflow,  // a sometimes_each site ran out of buckets (counts are incomplete)
};

// "pass", "FAIL", "never reached", "never true", "overflow".
std::string_view siteStatusName(SiteStatus status);

struct FirstFailure {
  std::uint64_t evaluation;  // 1-based evaluation number at the site
  std::uint64_t stamp;       // from the failure stamp source (0 without one)
  std::int64_t left;         // numeric kinds: the operands; otherwise 0
  std::int64_t right;
};

struct BucketResult {
  std::vector<std::int64_t> keys;
  std::uint64_t hits;
  std::optional<std::int64_t> quality;
};

struct SiteResult {
  AssertKind kind;
  SiteStatus status;
  std::string message;
  std::string condition;
  std::string file;
  std::string function;
  std::uint32_t line;
  std::uint32_t column;
  std::uint32_t recordCount;  // records merged into this entry (1 unless templated)
  std::uint32_t arity;        // conditions (compound kinds) or identity keys (each)
  std::uint64_t hits;         // passes + fails
  std::uint64_t passes;
  std::uint64_t fails;
  std::optional<FirstFailure> firstFailure;
  std::optional<std::int64_t> watermark;  // numeric kinds, once a value was seen
  std::uint32_t frontier;                 // sometimes_all
  std::uint32_t bucketsMax;               // sometimes_each: capacity
  std::uint64_t bucketOverflows;          // sometimes_each: evaluations without a bucket
  std::vector<BucketResult> buckets;
};

struct AssertionReport {
  std::vector<SiteResult> sites;
  std::uint64_t violations;       // region-wide invariant failures
  std::uint64_t discoveries;      // region-wide discoveries
  std::uint64_t bucketOverflows;  // region-wide bucket overflows
};

// A site's verdict from its counts (what collectAssertionReport sets in `status`); also for
// reports combined from several runs (runner/report_merge.h).
SiteStatus siteStatusOf(const SiteResult& site);

// Snapshot of the live table. Reads the region without stopping writers: call it when the
// run (and every timeline sharing the region) has finished.
AssertionReport collectAssertionReport();

// How a site broke its contract.
enum class BreachKind : std::uint8_t {
  kAlwaysViolated,      // always* / always_some failed, always_or_unreachable failed
  kUnreachableReached,  // an unreachable site was reached
  kNeverTrue,           // a sometimes site (any sometimes kind) never held
  kNeverReached,        // a must-hit site (always, sometimes, reachable, ...) never ran
  kBucketOverflow,      // a sometimes_each site needed more than its buckets
};

std::string_view breachKindName(BreachKind kind);

// True for the breaches that prove a bug by themselves (the invariant kinds). The others
// say the run did not exercise enough, or that a bound was too small.
constexpr bool isDefiniteBug(BreachKind kind) {
  return kind == BreachKind::kAlwaysViolated || kind == BreachKind::kUnreachableReached;
}

struct ContractBreach {
  BreachKind breach;
  AssertKind kind;
  std::string message;
  std::string file;
  std::uint32_t line;
  std::uint64_t hits;
  std::uint64_t passes;
  std::uint64_t fails;
  // One line for people: what was expected and the counts ("failed 3 of 10 evaluations;
  // first at evaluation 4 (left = 1, right = 2)").
  std::string summary;
};

// Every contract breach of the report, in the report's (deterministic) order.
std::vector<ContractBreach> validateContracts(const AssertionReport& report);

// An aligned table, one row per site (status, kind, counts, detail, location, message),
// then the buckets of sometimes_each sites and the list of contract breaches.
std::string renderText(const AssertionReport& report);

// ---- What failed during one seed --------------------------------------------------------
//
// A seed's verdict names the invariant sites that failed while it ran, whatever else ended
// it (a workload's check() violation, a deadlock...): the failing assertion's kind, message
// and location are what a reader needs first.

// Every site's failure count, in the report's order (a snapshot to compare with later).
std::vector<std::uint64_t> failCounts(const AssertionReport& report);

// The invariant sites (always*, unreachable) of `now` whose failure count grew since
// `before` (failCounts of the same catalog), with `fails` set to the growth. With a shared
// table (--jobs, exploration) another timeline's failures can show up here too.
std::vector<SiteResult> invariantFailuresSince(const std::vector<std::uint64_t>& before,
                                               const AssertionReport& now);

// Describes `failures` (from invariantFailuresSince) of a seed that counted `violations`
// invariant failures. The first line names the first failing site, so a one-line view (a
// JUnit message, a log grep) keeps it:
//   always "at most one client holds the lock" failed at bugs/double_grant.cpp:160
//   1 always/unreachable assertion failure(s) during this seed:
//     always "at most one client holds the lock" (holdersOtherThan(c, client) == 0) at
//     bugs/double_grant.cpp:160 failed 1 time(s)
// With several sites the first line ends "(and N more site(s))". Empty when violations == 0.
std::string describeInvariantFailures(const std::vector<SiteResult>& failures,
                                      std::uint64_t violations);

// The JSON form is the runner's (renderAssertionsJson in moonpool/runner/report.h): the
// project writes JSON in one place, with one library.

}  // namespace moonpool
