// Coverage recording: which edges a whole run reached, how often, and who reached each first
// (explorer/, libc-only leaf; what `--coverage_dir` and moonpool-cov build on).
//
// The explorer's edge history keeps one bucket per edge, enough to steer; a coverage report
// needs more, merged over every timeline of the run wherever it ran (the root, a --jobs
// worker, a forked timeline at any depth): per edge the sum of the timelines' hit counts, how
// many timelines reached it, the first plain seed that did and the first explored timeline
// (its recipe) that did. All of it lives in MAP_SHARED regions mapped by startRecording(),
// inherited by every process forked afterwards, updated with atomics.
//
// Who records what:
//   - an explored seed: the explorer itself, at the end of each timeline (the root's at
//     endSeed(), a child's in endChildTimeline()), from the slot the EdgeSource filled;
//   - a plain seed or a replay: the runner brackets the seed with recordSeedBegin() and
//     recordSeedEnd(); the recorder hands the EdgeSource its own slot.
// Counts are the EdgeSource's per-timeline counters (trace-pc-guard: saturating at 255 per
// timeline; inline-8bit-counters: wrapping at 256), summed over timelines in 64 bits.
//
// Origins ("first"): the first timeline to *finish* with an edge claims it, so with
// parallel timelines (--jobs) which one is first depends on scheduling; sequential runs are
// deterministic. A root timeline counts as a plain seed (it runs exactly what the plain seed
// runs); an edge that no root timeline reached was reached only by exploration.
//
// The coverage runtime (instrument/) registers RecordingHooks: the writer of the coverage
// directory's files (it knows the edges' addresses; the recorder only counts).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {

// Distinct origins (timelines that were first to reach some edge) one run can record, and
// the bytes of their recipes' text. Past either, edges keep their counts and lose the origin
// (recordingStats().originsDropped says how many).
inline constexpr std::uint32_t kOriginsMax = std::uint32_t{1} << 16;
inline constexpr std::size_t kOriginBytesMax = std::size_t{8} << 20;
// The command a reproduction line starts with (the binary and its simulation flags).
inline constexpr std::size_t kRecordingCommandBytesMax = 4096;

struct RecordedEdge {
  std::atomic<std::uint64_t> hits;       // sum over timelines of the timeline's count
  std::atomic<std::uint32_t> timelines;  // timelines that reached it
  std::atomic<std::uint32_t> seedOrigin;      // 1 + origin of the first root timeline, or 0
  std::atomic<std::uint32_t> exploredOrigin;  // 1 + origin of the first forked one, or 0
};

struct RecordingHooks {
  // Writes the recording into `dir` (exists). False with a one-line reason on failure.
  bool (*write)(const char* dir, char* error, std::size_t size) = nullptr;
};

// Registered by the coverage runtime (a pointer to a static object); safe before main.
void registerRecordingHooks(const RecordingHooks* hooks);

// Maps the shared regions, sized from the EdgeSource's edgeCount(). Root only, before any seed
// and before any worker forks. Fails (false and a reason) without an edge source, without
// recording hooks, when already recording, or when mmap fails. `command` is kept for the
// reproduction lines (truncated to kRecordingCommandBytesMax - 1 bytes).
bool startRecording(const char* command, char* error, std::size_t size);
// Unmaps everything. Root only.
void stopRecording();
bool recording();

// A plain seed (or a replay) in this process: no-ops unless recording and the explorer is
// inactive (an explored seed is recorded by the explorer itself). `replay` names the
// timeline of a replay; null for a plain seed.
void recordSeedBegin();
void recordSeedEnd(std::uint64_t seed, const Recipe* replay);

// Merges one finished timeline's counts (`n` bytes, the EdgeSource's layout). `forked`: a
// child timeline (else a root one). The explorer calls this; so does recordSeedEnd().
enum class TimelineKind : std::uint8_t { kRoot, kForked };
void recordTimeline(const std::uint8_t* counts, std::size_t n, const Recipe& recipe,
                    TimelineKind kind);

// ---- reading the recording (root, after the run) ----------------------------------------

struct RecordingStats {
  std::uint64_t timelines = 0;       // root timelines + forked timelines recorded
  std::uint64_t forkedTimelines = 0;
  std::uint32_t origins = 0;
  std::uint32_t originsDropped = 0;  // origins lost to kOriginsMax / kOriginBytesMax
};

std::size_t recordedEdgeCount();
// recordedEdgeCount() entries, indexed like the EdgeSource's map; null when not recording.
const RecordedEdge* recordedEdges();
// The recipe text of origin `index` (< recordingStats().origins), "" past the end.
const char* recordedOrigin(std::uint32_t index);
const char* recordingCommand();
RecordingStats recordingStats();

// Writes the coverage directory through the registered hooks. Root only.
bool writeRecording(const char* dir, char* error, std::size_t size);

// ---- the explorer's maps, for merging the reports of shards (moonpool-merge) ------------

// The explored map: bit b of the map (b < kBitmapBits) becomes bit b % 8 of out[b / 8].
// Copies min(bytes, kBitmapBits / 8) bytes; returns kBitmapBits / 8 (0 when the explorer
// is not started: nothing is copied).
std::size_t copyExploredMap(std::uint8_t* out, std::size_t bytes);
// The edges whose history bucket is non-zero (what Stats::edgesCovered counts), edge e as
// bit e % 8 of out[e / 8]. Copies min(bytes, ceil(edges / 8)) bytes; returns ceil(edges / 8)
// (0 without edge coverage or when the explorer is not started).
std::size_t copyCoveredEdges(std::uint8_t* out, std::size_t bytes);

}  // namespace moonpool::explorer
