// Edge source registration (see edges.h). Plain constant-initialized atomics: the coverage
// runtime registers from module constructors, possibly before this file's own constructors
// would run, so nothing here may need one.
#include "moonpool/explorer/edges.h"

#include <atomic>

namespace moonpool::explorer {
namespace {

constinit std::atomic<const EdgeSource*> gSource{nullptr};
constinit std::atomic<std::uint32_t> gConflicts{0};

}  // namespace

void registerEdgeSource(const EdgeSource* source) {
  if (source == nullptr) return;
  const EdgeSource* expected = nullptr;
  if (gSource.compare_exchange_strong(expected, source, std::memory_order_acq_rel)) return;
  if (expected != source) gConflicts.fetch_add(1, std::memory_order_relaxed);
}

const EdgeSource* edgeSource() { return gSource.load(std::memory_order_acquire); }

std::uint32_t registeredEdgeSourceConflicts() {
  return gConflicts.load(std::memory_order_relaxed);
}

}  // namespace moonpool::explorer
