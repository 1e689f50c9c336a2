// The fixed search order's assertion hits (runtime/ runner layer, private).
//
// In the fixed order each worker judges its discoveries against a private copy of the
// assertion table (exploration.cpp, hookShareState), so its hits would never reach the
// report: a sometimes reached only in explored timelines would show as never held. A worker
// therefore folds what its timeline added to its copy (counts, watermarks, frontiers,
// buckets by their keys, a first failure) into one MAP_SHARED accumulator when it ends, and
// the root folds the accumulator into its table after the last seed, before the report reads
// it. The search never reads the accumulator: it stays a function of the seed and the flags.
#pragma once

namespace moonpool::internal {

// Root, before the first worker of a seed: remembers the table as the workers will find it
// (their baseline) and maps the accumulator on first use. Returns false when mmap fails.
bool explorationHitsBegin();
// A worker, at its timeline's end: adds its table's difference from the baseline.
void explorationHitsFold();
// Root, after the last seed: adds the accumulator into the table and unmaps it.
void explorationHitsFinish();

}  // namespace moonpool::internal
