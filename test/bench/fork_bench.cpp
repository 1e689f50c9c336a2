// The price of a fork, the explorer's unit of work: fork() + the child's _exit(0) + the
// parent's waitpid(), against how much memory the parent has touched (1, 10, 100, 500 MB),
// backed by 4 KB pages (plain malloc; MADV_NOHUGEPAGE so the kernel's THP policy cannot
// change it) or by a transparent-huge-page arena (a 2 MB-aligned mmap with
// MADV_HUGEPAGE), and with the child writing 1 MB of that memory before it exits (the
// copy-on-write faults a timeline pays for the pages it dirties).
//
// Why: fork copies the page tables of every resident page (one entry per 4 KB page, one per
// 2 MB huge page), so its cost grows with the parent's resident set; a child's writes then
// copy whole pages (4 KB or 2 MB each). These figures bound the explorer's timelines per
// second for a simulation of a given size. Baseline: the 1 MB, 4 KB, no-write case.
//
// Counters: resident_MB (what was touched), huge_MB (AnonHugePages the kernel actually
// backed the arena with, read from /proc/self/smaps_rollup: 0 means THP was refused).
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kHugePage = 2 * kMiB;
constexpr std::size_t kPage = 4096;
constexpr std::size_t kChildWriteBytes = kMiB;

enum class Pages : std::int64_t { k4K = 0, kHuge = 1 };
enum class ChildWrites : std::int64_t { kNone = 0, kOneMiB = 1 };

// AnonHugePages of this process, in bytes (0 when the file or the line is missing).
std::size_t anonHugeBytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("AnonHugePages:", 0) == 0) {
      return static_cast<std::size_t>(std::strtoull(line.c_str() + 14, nullptr, 10)) * 1024;
    }
  }
  return 0;
}

// `bytes` of touched memory on the chosen page size; owns it.
class Arena {
 public:
  Arena(std::size_t bytes, Pages pages) : bytes_(bytes), pages_(pages) {
    if (pages == Pages::k4K) {
      base_ = static_cast<unsigned char*>(std::malloc(bytes));
      if (base_ == nullptr) return;
      // Only the page-aligned interior can be advised; the edges are at most two pages.
      const auto begin = (reinterpret_cast<std::uintptr_t>(base_) + kPage - 1) / kPage * kPage;
      const auto end = (reinterpret_cast<std::uintptr_t>(base_) + bytes) / kPage * kPage;
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_NOHUGEPAGE);
    } else {
      // Over-allocate by one huge page and align the start inside the mapping.
      mapped_ = (bytes + kHugePage - 1) / kHugePage * kHugePage + kHugePage;
      void* raw =
          mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) return;
      raw_ = raw;
      const auto aligned =
          (reinterpret_cast<std::uintptr_t>(raw) + kHugePage - 1) / kHugePage * kHugePage;
      base_ = reinterpret_cast<unsigned char*>(aligned);
      madvise(base_, mapped_ - kHugePage, MADV_HUGEPAGE);
    }
    std::memset(base_, 0x5a, bytes_);  // resident, every page
  }
  ~Arena() {
    if (pages_ == Pages::k4K) std::free(base_);
    if (raw_ != nullptr) munmap(raw_, mapped_);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  unsigned char* data() const { return base_; }
  bool ok() const { return base_ != nullptr; }

 private:
  std::size_t bytes_;
  Pages pages_;
  unsigned char* base_ = nullptr;
  void* raw_ = nullptr;
  std::size_t mapped_ = 0;
};

void BM_ForkReap(benchmark::State& state) {
  const std::size_t bytes = static_cast<std::size_t>(state.range(0)) * kMiB;
  const auto pages = static_cast<Pages>(state.range(1));
  const auto writes = static_cast<ChildWrites>(state.range(2));
  const std::size_t hugeBefore = anonHugeBytes();
  Arena arena(bytes, pages);
  if (!arena.ok()) {
    state.SkipWithError("cannot allocate the arena");
    return;
  }
  const std::size_t huge = anonHugeBytes() - hugeBefore;
  std::fflush(nullptr);  // a child must not inherit unflushed output
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) {
      if (writes == ChildWrites::kOneMiB) {
        // One byte per 4 KB page: every page of the first MB is copied (a huge page once).
        for (std::size_t at = 0; at < kChildWriteBytes; at += kPage) arena.data()[at] ^= 1;
      }
      _exit(0);
    }
    if (pid < 0) {
      state.SkipWithError("fork failed");
      return;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("the child did not exit cleanly");
      return;
    }
  }
  state.counters["resident_MB"] = static_cast<double>(state.range(0));
  state.counters["huge_MB"] = static_cast<double>(huge) / static_cast<double>(kMiB);
  state.SetLabel(std::string(pages == Pages::k4K ? "4K" : "THP") +
                 (writes == ChildWrites::kOneMiB ? " child-writes-1MB" : ""));
}

void forkArgs(benchmark::internal::Benchmark* b) {
  for (std::int64_t writes : {0, 1}) {
    for (std::int64_t pages : {0, 1}) {
      for (std::int64_t mb : {1, 10, 100, 500}) b->Args({mb, pages, writes});
    }
  }
}

BENCHMARK(BM_ForkReap)->Apply(forkArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
