// Workload metrics and fault counts of forked timelines (see timeline_totals.h).
#include "timeline_totals.h"

#include <sched.h>
#include <sys/mman.h>

#include <cstring>
#include <new>

#include "moonpool/check.h"
#include "moonpool/internal/fnv1a.h"

namespace moonpool::internal {
namespace {

// Spins while another timeline writes an entry's name (a few stores): past this many yields
// the entry is skipped rather than waited for.
constexpr int kWriterWaitMax = 10'000;

static_assert(std::atomic<std::int64_t>::is_always_lock_free, "shared between processes");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared between processes");

}  // namespace

TimelineTotals* TimelineTotals::map() {
  void* base = mmap(nullptr, sizeof(TimelineTotals), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  auto* table = new (base) TimelineTotals();
  table->clear();
  return table;
}

void TimelineTotals::unmap(TimelineTotals* table) {
  if (table == nullptr) return;
  table->~TimelineTotals();
  munmap(table, sizeof(TimelineTotals));
}

void TimelineTotals::clear() {
  dropped_.store(0);
  for (Entry& e : entries_) {
    e.state.store(0);
    e.value.store(0);
  }
}

void TimelineTotals::fold(Category category, const std::string& name, std::int64_t value) {
  if (name.size() >= kNameBytesMax) {
    dropped_.fetch_add(1);
    return;
  }
  const std::uint64_t hash = fnv1a(name) + static_cast<std::uint64_t>(category);
  for (std::size_t probe = 0; probe < kEntriesMax; ++probe) {
    Entry& e = entries_[(hash + probe) % kEntriesMax];
    std::uint32_t state = 0;
    if (e.state.compare_exchange_strong(state, 1)) {
      e.category = category;
      std::memcpy(e.name, name.c_str(), name.size() + 1);
      e.value.store(category == Category::kMax ? value : 0);
      e.state.store(2, std::memory_order_release);
      state = 2;
    }
    for (int wait = 0; state == 1 && wait < kWriterWaitMax; ++wait) {
      sched_yield();
      state = e.state.load(std::memory_order_acquire);
    }
    if (state != 2 || e.category != category || name != e.name) continue;
    if (category == Category::kMax) {
      std::int64_t seen = e.value.load();
      while (value > seen && !e.value.compare_exchange_weak(seen, value)) {
      }
    } else {
      e.value.fetch_add(value);
    }
    return;
  }
  dropped_.fetch_add(1);
}

void TimelineTotals::add(const std::map<std::string, Metric>& metrics,
                         const std::map<std::string, std::uint64_t>& faults) {
  for (const auto& [name, metric] : metrics) {
    fold(metric.kind == Metric::Kind::kSum ? Category::kSum : Category::kMax, name, metric.value);
  }
  for (const auto& [kind, count] : faults) {
    fold(Category::kFault, kind, static_cast<std::int64_t>(count));
  }
}

void TimelineTotals::read(SeedExploration& out) const {
  out.timelineNamesDropped = dropped_.load();
  for (const Entry& e : entries_) {
    if (e.state.load(std::memory_order_acquire) != 2) continue;
    const std::int64_t value = e.value.load();
    if (e.category == Category::kFault) {
      MOONPOOL_CHECK_GE(value, 0, "a fault count is never negative");
      out.timelineFaults[e.name] += static_cast<std::uint64_t>(value);
      continue;
    }
    mergeMetric(out.timelineMetrics, e.name,
                Metric{.kind = e.category == Category::kSum ? Metric::Kind::kSum
                                                            : Metric::Kind::kMax,
                       .value = value});
  }
}

}  // namespace moonpool::internal
