// Coverage recording across processes (see moonpool/explorer/recording.h).
//
// One MAP_SHARED region, mapped by startRecording() before anything forks:
//   Header       counters, the origin allocator, the reproduction command
//   edges        RecordedEdge per edge counter
//   offsets      kOriginsMax u32: where each origin's recipe text starts in `text`
//   text         kOriginBytesMax bytes of NUL-terminated recipe texts
// plus a private slot of edgeCount bytes for plain seeds (each process its own copy).
// Every update is an atomic on the shared region, so timelines finishing at once in
// different processes merge without locks; nothing here allocates.
#include "moonpool/explorer/recording.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "moonpool/explorer/edges.h"
#include "shared.h"

namespace moonpool::explorer {
namespace {

struct Header {
  std::atomic<std::uint64_t> timelines;
  std::atomic<std::uint64_t> forkedTimelines;
  std::atomic<std::uint32_t> origins;
  std::atomic<std::uint32_t> originsDropped;
  std::atomic<std::uint64_t> textUsed;
  char command[kRecordingCommandBytesMax];
};

struct Recorder {
  bool on;
  void* base;
  std::size_t bytes;
  std::size_t edges;
  Header* header;
  RecordedEdge* edge;
  std::uint32_t* offsets;
  char* text;
  std::uint8_t* plainSlot;  // private; plain seeds count here
  bool inPlainSeed;
};

constinit Recorder gRecorder{};
constinit std::atomic<const RecordingHooks*> gHooks{nullptr};

std::size_t roundUp(std::size_t n) { return (n + 63) / 64 * 64; }

void setError(char* error, std::size_t size, const char* what) {
  if (error != nullptr && size > 0) std::snprintf(error, size, "%s", what);
}

// Stores the recipe's text and returns 1 + its origin index, or 0 when a bound is reached.
std::uint32_t addOrigin(const Recipe& recipe) {
  Header& h = *gRecorder.header;
  const std::size_t needed = formatRecipe(recipe, nullptr, 0) + 1;
  const std::uint64_t at = h.textUsed.fetch_add(needed, std::memory_order_relaxed);
  if (at + needed > kOriginBytesMax) {
    h.originsDropped.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const std::uint32_t index = h.origins.load(std::memory_order_relaxed);
  std::uint32_t claimed = index;
  while (claimed < kOriginsMax &&
         !h.origins.compare_exchange_weak(claimed, claimed + 1, std::memory_order_acq_rel)) {
  }
  if (claimed >= kOriginsMax) {
    h.originsDropped.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  static_assert(kOriginBytesMax <= UINT32_MAX, "origin offsets are 32-bit");
  const std::size_t written = formatRecipe(recipe, gRecorder.text + at, needed);
  MOONPOOL_EXPLORER_CHECK(written + 1 == needed, "a recipe's text changed length");
  gRecorder.offsets[claimed] = static_cast<std::uint32_t>(at);
  return claimed + 1;
}

}  // namespace

void registerRecordingHooks(const RecordingHooks* hooks) {
  if (hooks != nullptr) gHooks.store(hooks, std::memory_order_release);
}

bool startRecording(const char* command, char* error, std::size_t size) {
  const EdgeSource* source = edgeSource();
  const RecordingHooks* hooks = gHooks.load(std::memory_order_acquire);
  if (gRecorder.on) return setError(error, size, "coverage recording already started"), false;
  if (source == nullptr || source->edgeCount() == 0 || hooks == nullptr) {
    setError(error, size,
             "this binary has no instrumented code: build its user code with "
             "moonpool_enable_coverage() (and link moonpool::coverage)");
    return false;
  }
  const std::size_t edges = source->edgeCount();
  MOONPOOL_EXPLORER_CHECK(edges <= (std::size_t{1} << 32), "more edges than a map can hold");
  const std::size_t bytes = roundUp(sizeof(Header)) + roundUp(edges * sizeof(RecordedEdge)) +
                            roundUp(kOriginsMax * sizeof(std::uint32_t)) + kOriginBytesMax;
  void* base = internal::mapShared(bytes);
  auto* slot = static_cast<std::uint8_t*>(internal::mapPrivate(edges));
  if (base == nullptr || slot == nullptr) {
    internal::unmap(base, bytes);
    internal::unmap(slot, edges);
    return setError(error, size, "coverage recording: mmap of the shared regions failed"), false;
  }
  auto* bytesAt = static_cast<unsigned char*>(base);
  gRecorder = Recorder{};
  gRecorder.on = true;
  gRecorder.base = base;
  gRecorder.bytes = bytes;
  gRecorder.edges = edges;
  gRecorder.header = reinterpret_cast<Header*>(bytesAt);
  bytesAt += roundUp(sizeof(Header));
  gRecorder.edge = reinterpret_cast<RecordedEdge*>(bytesAt);
  bytesAt += roundUp(edges * sizeof(RecordedEdge));
  gRecorder.offsets = reinterpret_cast<std::uint32_t*>(bytesAt);
  bytesAt += roundUp(kOriginsMax * sizeof(std::uint32_t));
  gRecorder.text = reinterpret_cast<char*>(bytesAt);
  gRecorder.plainSlot = slot;
  std::snprintf(gRecorder.header->command, kRecordingCommandBytesMax, "%s",
                command != nullptr ? command : "");
  return true;
}

void stopRecording() {
  if (!gRecorder.on) return;
  internal::unmap(gRecorder.base, gRecorder.bytes);
  internal::unmap(gRecorder.plainSlot, gRecorder.edges);
  gRecorder = Recorder{};
}

bool recording() { return gRecorder.on; }

void recordSeedBegin() {
  if (!gRecorder.on || active()) return;
  MOONPOOL_EXPLORER_CHECK(!gRecorder.inPlainSeed, "recordSeedBegin() twice without an end");
  std::memset(gRecorder.plainSlot, 0, gRecorder.edges);
  edgeSource()->beginTimeline(gRecorder.plainSlot);
  gRecorder.inPlainSeed = true;
}

void recordSeedEnd(std::uint64_t seed, const Recipe* replay) {
  if (!gRecorder.on || !gRecorder.inPlainSeed) return;
  edgeSource()->endTimeline(gRecorder.plainSlot);
  gRecorder.inPlainSeed = false;
  static constinit Recipe plain{};  // too large for the stack of a deep simulation
  plain.rootSeed = seed;
  const Recipe& recipe = replay != nullptr ? *replay : plain;
  recordTimeline(gRecorder.plainSlot, gRecorder.edges, recipe, TimelineKind::kRoot);
}

void recordTimeline(const std::uint8_t* counts, std::size_t n, const Recipe& recipe,
                    TimelineKind kind) {
  if (!gRecorder.on || counts == nullptr) return;
  MOONPOOL_EXPLORER_CHECK(n == gRecorder.edges, "a timeline's counts do not match the edges");
  MOONPOOL_EXPLORER_CHECK(recipe.length <= kRecipeStepsMax, "a recipe longer than its steps");
  Header& h = *gRecorder.header;
  h.timelines.fetch_add(1, std::memory_order_relaxed);
  const bool forked = kind == TimelineKind::kForked;
  if (forked) h.forkedTimelines.fetch_add(1, std::memory_order_relaxed);
  std::uint32_t origin = 0;  // 1 + index once this timeline needed one
  bool originTried = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (counts[i] == 0) continue;
    RecordedEdge& edge = gRecorder.edge[i];
    edge.hits.fetch_add(counts[i], std::memory_order_relaxed);
    edge.timelines.fetch_add(1, std::memory_order_relaxed);
    std::atomic<std::uint32_t>& first = forked ? edge.exploredOrigin : edge.seedOrigin;
    if (first.load(std::memory_order_relaxed) != 0) continue;
    if (!originTried) {
      origin = addOrigin(recipe);
      originTried = true;
    }
    std::uint32_t none = 0;
    if (origin != 0) first.compare_exchange_strong(none, origin, std::memory_order_acq_rel);
  }
}

std::size_t recordedEdgeCount() { return gRecorder.on ? gRecorder.edges : 0; }
const RecordedEdge* recordedEdges() { return gRecorder.on ? gRecorder.edge : nullptr; }

const char* recordedOrigin(std::uint32_t index) {
  if (!gRecorder.on || index >= gRecorder.header->origins.load()) return "";
  MOONPOOL_EXPLORER_CHECK(gRecorder.offsets[index] < kOriginBytesMax, "origin offset past text");
  return gRecorder.text + gRecorder.offsets[index];
}

const char* recordingCommand() { return gRecorder.on ? gRecorder.header->command : ""; }

RecordingStats recordingStats() {
  if (!gRecorder.on) return {};
  const Header& h = *gRecorder.header;
  return RecordingStats{.timelines = h.timelines.load(),
                        .forkedTimelines = h.forkedTimelines.load(),
                        .origins = h.origins.load(),
                        .originsDropped = h.originsDropped.load()};
}

bool writeRecording(const char* dir, char* error, std::size_t size) {
  const RecordingHooks* hooks = gHooks.load(std::memory_order_acquire);
  if (!gRecorder.on) return setError(error, size, "coverage recording was not started"), false;
  MOONPOOL_EXPLORER_CHECK(hooks != nullptr, "recording started without hooks");
  return hooks->write(dir, error, size);
}

// ---- the explorer's maps -----------------------------------------------------------------

std::size_t copyExploredMap(std::uint8_t* out, std::size_t bytes) {
  const internal::Local& local = internal::gLocal;
  if (!local.started || local.explored == nullptr) return 0;
  constexpr std::size_t kBytes = kBitmapBits / 8;
  for (std::size_t i = 0; i < kBytes && i < bytes; ++i) {
    const std::uint64_t word = local.explored[i / 8].load(std::memory_order_relaxed);
    out[i] = static_cast<std::uint8_t>(word >> (8 * (i % 8)));
  }
  return kBytes;
}

std::size_t copyCoveredEdges(std::uint8_t* out, std::size_t bytes) {
  const internal::Local& local = internal::gLocal;
  if (!local.started || local.history == nullptr || local.edgeCount == 0) return 0;
  const std::size_t needed = (local.edgeCount + 7) / 8;
  for (std::size_t i = 0; i < needed && i < bytes; ++i) out[i] = 0;
  for (std::size_t e = 0; e < local.edgeCount && e / 8 < bytes; ++e) {
    if (local.history[e].load(std::memory_order_relaxed) != 0) {
      out[e / 8] = static_cast<std::uint8_t>(out[e / 8] | (1u << (e % 8)));
    }
  }
  return needed;
}

}  // namespace moonpool::explorer
