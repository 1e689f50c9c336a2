// Workload metrics and fault counts of forked timelines (runtime/ runner layer, private).
//
// A forked timeline ends with _exit: its SeedResult dies with it. So before it ends it folds
// its metrics and fault counts into this table, mapped MAP_SHARED by the root before the
// first fork and read by the root at the end of the seed. Fixed capacity (kEntriesMax names
// of at most kNameBytesMax bytes; more are counted as dropped), no heap, lock-free: an entry
// is claimed by compare-and-swap (empty -> writing -> ready), sums and maxima are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "moonpool/runner/report.h"

namespace moonpool::internal {

class TimelineTotals {
 public:
  static constexpr std::size_t kEntriesMax = 256;
  static constexpr std::size_t kNameBytesMax = 88;

  // Maps the table; null when mmap fails (the run then goes without timeline totals).
  static TimelineTotals* map();
  static void unmap(TimelineTotals* table);

  // Root, between seeds: empties the table.
  void clear();
  // A timeline, before it ends.
  void add(const std::map<std::string, Metric>& metrics,
           const std::map<std::string, std::uint64_t>& faults);
  // Root, after the seed: the totals into `out`.
  void read(SeedExploration& out) const;

 private:
  enum class Category : std::uint8_t { kSum, kMax, kFault };
  struct Entry {
    std::atomic<std::uint32_t> state;  // 0 empty, 1 being written, 2 ready
    Category category;
    char name[kNameBytesMax];
    std::atomic<std::int64_t> value;
  };
  void fold(Category category, const std::string& name, std::int64_t value);

  std::atomic<std::uint64_t> dropped_;
  Entry entries_[kEntriesMax];
};

}  // namespace moonpool::internal
