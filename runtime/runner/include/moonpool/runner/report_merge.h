// Reading run reports back from their JSON and merging the reports of a sharded run
// (runtime/ runner layer, public). The moonpool-merge tool is a thin main over these.
//
// A run split with --shard=I/N (runner/main.h) gives N reports, shard I holding the seeds at
// indices i with i % N == I. mergeShardReports() makes the report of the whole run:
//   - totals, faults, metrics, buggify sites and explorer statistics are summed (largest
//     for maxima: metrics of kind max, deepest fork); the explored maps and covered-edge
//     sets each report carries are ORed, and bitmap bits and edges covered are the sizes of
//     those unions (exact);
//   - kept seeds are pooled and the keeping rule is applied again in index order (the first
//     RunReport::kSeedsSampleMax seeds and the first kFailingSeedsKeptMax failing ones), so
//     the merged report keeps the seeds one unsharded process would have kept;
//   - assertion sites are matched by kind, file, line, column and message; their hit, pass
//     and fail counts are summed, watermarks, frontiers and sometimes_each buckets combined,
//     and each site's status and the contract breaches are judged again on the union: a
//     sometimes held in any shard holds for the run. The run's bug and coverage verdicts
//     (and so its exit code) follow from the union;
//   - wall time is the longest shard's (shards run side by side).
// Two values cannot be recomputed from reports and are documented as such: a site's
// first_failure is the lowest shard's (its evaluation ordinal counts within that shard), and
// `discoveries` is the sum of the shards' (each shard discovers on its own), an upper bound.
//
// Errors (the tool's exit code in brackets): text that is not a version-3 run report, with
// the field at fault [2]; shards of different builds (FailedPrecondition) [4]; reports that
// are not shards, of different runs (simulation, iteration, flags, exploration), of
// different shard counts, or whose shard indices overlap or leave one out [2].
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "moonpool/runner/report.h"

namespace moonpool {

// The report a renderReportJson() output describes. Sites' statuses and the contract
// breaches are judged again from the counts; nothing else is recomputed.
absl::StatusOr<RunReport> parseReportJson(std::string_view json);

// The report of the whole run from the reports of its shards, in any order (above).
absl::StatusOr<RunReport> mergeShardReports(std::vector<RunReport> shards);

}  // namespace moonpool
