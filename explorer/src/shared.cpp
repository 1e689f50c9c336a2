// Shared regions, run tokens, bitmap/edge merging and seeds (see shared.h).
#include "shared.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "moonpool/explorer/edges.h"

namespace moonpool::explorer::internal {

constinit Local gLocal{};

void* mapShared(std::size_t bytes) {
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return base == MAP_FAILED ? nullptr : base;
}

void* mapPrivate(std::size_t bytes) {
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return base == MAP_FAILED ? nullptr : base;
}

void unmap(void* base, std::size_t bytes) {
  if (base != nullptr && bytes > 0) munmap(base, bytes);
}

namespace {
std::size_t roundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
}  // namespace

std::size_t sharedBytes(std::size_t edgeCount) {
  return roundUp(sizeof(Control), 64) + kBitmapWords * sizeof(std::uint64_t) +
         roundUp(edgeCount, 64) + kMarksMax * sizeof(MarkEntry);
}

std::uint64_t monotonicNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

std::uint64_t cpuNs(int clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

bool watchdogExpired(std::uint64_t startNs, std::uint64_t limitMs) {
  if (startNs == 0 || limitMs == 0) return false;
  const std::uint64_t now = monotonicNs();
  return now > startNs && now - startNs >= limitMs * 1'000'000;
}

void fatal(const char* what) {
  std::fprintf(stderr, "moonpool explorer: internal invariant broken: %s\n", what);
  std::abort();
}

// ---- run tokens -------------------------------------------------------------------------

void tokensInit(TokenTable& tokens, std::uint32_t count) {
  MOONPOOL_EXPLORER_CHECK(count >= 1 && count <= kParallelismMax, "token count out of range");
  for (auto& holder : tokens.holder) holder.store(0, std::memory_order_relaxed);
  const int rc = sem_init(&tokens.available, /*pshared=*/1, count);
  MOONPOOL_EXPLORER_CHECK(rc == 0, "sem_init of the run tokens failed");
}

void tokensDestroy(TokenTable& tokens) { sem_destroy(&tokens.available); }

std::uint32_t tokenAcquire(TokenTable& tokens, std::int32_t holder) {
  MOONPOOL_EXPLORER_CHECK(holder != 0, "a token holder is a pid or -1");
  while (sem_wait(&tokens.available) != 0) {
    MOONPOOL_EXPLORER_CHECK(errno == EINTR, "sem_wait on the run tokens failed");
  }
  // The semaphore guarantees a free entry exists; claim it.
  for (std::uint32_t i = 0; i < kParallelismMax; ++i) {
    std::int32_t expected = 0;
    if (tokens.holder[i].compare_exchange_strong(expected, holder, std::memory_order_acq_rel)) {
      return i;
    }
  }
  fatal("a run token was available but no table entry was free");
}

std::int64_t tokenAcquireUnless(TokenTable& tokens, std::int32_t holder,
                                const std::atomic<std::uint32_t>& giveUp,
                                void (*onRecheck)()) {
  MOONPOOL_EXPLORER_CHECK(holder != 0, "a token holder is a pid or -1");
  for (bool first = true;; first = false) {
    if (giveUp.load(std::memory_order_acquire) != 0) return -1;
    if (!first && onRecheck != nullptr) onRecheck();
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += long{kTokenRecheckMs} * 1'000'000;
    if (deadline.tv_nsec >= 1'000'000'000) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1'000'000'000;
    }
    if (sem_timedwait(&tokens.available, &deadline) == 0) break;
    MOONPOOL_EXPLORER_CHECK(errno == EINTR || errno == ETIMEDOUT,
                            "sem_timedwait on the run tokens failed");
  }
  for (std::uint32_t i = 0; i < kParallelismMax; ++i) {
    std::int32_t expected = 0;
    if (tokens.holder[i].compare_exchange_strong(expected, holder, std::memory_order_acq_rel)) {
      return i;
    }
  }
  fatal("a run token was available but no table entry was free");
}

void tokenReassign(TokenTable& tokens, std::uint32_t index, std::int32_t holder) {
  MOONPOOL_EXPLORER_CHECK(index < kParallelismMax, "token index out of range");
  tokens.holder[index].store(holder, std::memory_order_release);
}

std::uint32_t tokenReleaseAll(TokenTable& tokens, std::int32_t holder) {
  std::uint32_t released = 0;
  for (auto& entry : tokens.holder) {
    std::int32_t expected = holder;
    if (entry.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      ++released;
      sem_post(&tokens.available);
    }
  }
  return released;
}

// ---- coverage maps ----------------------------------------------------------------------

bool mergeBitmap(std::atomic<std::uint64_t>* explored, const std::uint64_t* bitmap) {
  bool fresh = false;
  for (std::uint32_t i = 0; i < kBitmapWords; ++i) {
    if (bitmap[i] == 0) continue;
    const std::uint64_t before = explored[i].fetch_or(bitmap[i], std::memory_order_relaxed);
    if ((bitmap[i] & ~before) != 0) fresh = true;
  }
  return fresh;
}

bool mergeEdges(std::atomic<std::uint8_t>* history, const std::uint8_t* counts, std::size_t n) {
  bool fresh = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (counts[i] == 0) continue;
    const std::uint8_t bucket = edgeBucket(counts[i]);
    std::uint8_t best = history[i].load(std::memory_order_relaxed);
    while (bucket > best) {
      if (history[i].compare_exchange_weak(best, bucket, std::memory_order_relaxed)) {
        fresh = true;
        break;
      }
    }
  }
  return fresh;
}

std::uint64_t countBits(const std::atomic<std::uint64_t>* explored) {
  std::uint64_t bits = 0;
  for (std::uint32_t i = 0; i < kBitmapWords; ++i) {
    bits += static_cast<std::uint64_t>(
        __builtin_popcountll(explored[i].load(std::memory_order_relaxed)));
  }
  return bits;
}

std::uint64_t countCovered(const std::atomic<std::uint8_t>* history, std::size_t n) {
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < n; ++i) covered += history[i].load(std::memory_order_relaxed) != 0;
  return covered;
}

// ---- seeds ------------------------------------------------------------------------------

namespace {
std::uint64_t mix(std::uint64_t x) {  // SplitMix64's finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

std::uint64_t childSeed(std::uint64_t parentSeed, std::uint64_t mark, std::uint64_t count,
                        std::uint32_t index) {
  return mix(mix(mix(parentSeed ^ mark) ^ count) ^ (static_cast<std::uint64_t>(index) + 1));
}

}  // namespace moonpool::explorer::internal
