// The explorer: fork-based multiverse exploration (explorer/, a libc-only leaf layer).
//
// A simulation run is one *timeline*. When the assertion layer reports a discovery (a
// sometimes that held for the first time this seed, a numeric watermark that improved, a
// sometimes_all frontier that rose, a new or better sometimes_each bucket), the running
// timeline is at a *splitpoint*: the explorer forks children there. Each child reseeds the
// counted main random stream with a seed derived from (parent seed, mark, child index) and
// carries on from the very same state with a different future. Children can split again, up
// to a maximum depth. A child whose timeline ends in a bug exits with a class code (below);
// the first bug's *recipe* (root seed + one (call count, child seed) pair per fork) is
// recorded, and replaying it in one process (no fork) reaches the same bug.
//
// What steers the search:
//   - the coverage bitmap: 8192 bits per timeline, one per discovery (a hash of the mark
//     and, for watermarks, frontiers and qualities, the value reached, % 8192),
//     ORed into the explored map once the parent reaps the child;
//   - edge counters: when the binary's user code is built with SanitizerCoverage, the
//     coverage runtime (instrument/) registers an EdgeSource (edges.h); each timeline's
//     counters are bucketed (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+) and merged into a
//     history map of the best bucket per edge.
//   A child that set a new bitmap bit or raised an edge bucket is *productive*. Adaptive
//   energy spends more on marks whose children are productive and takes it back from
//   barren ones.
//
// Coupling. The explorer knows nothing of networks, worlds or assertions' layout. The
// runtime drives it: start() once, beginSeed()/endSeed() around each root seed, discovery()
// from the assertion layer's hook, endChildTimeline() when a forked timeline finishes. It
// reaches the simulation only through RngHooks (the counted stream's call count and reseed).
//
// Memory. Everything shared lives in MAP_SHARED | MAP_ANONYMOUS regions mapped by start():
// control block (stats, energy, first bug), explored map, edge history, mark table. Nothing
// here allocates on the heap, so forking at any point is safe, and no global needs a
// constructor (the coverage runtime may call in before main).
//
// Processes. Single-threaded callers only (the simulation is). Every child is settled by its
// parent before the split returns. From Config::respawnDepth on, a timeline's children are
// forked by the root at its own splitpoint and replay their recipe up to the split (a fork
// from a deep process costs O(mappings x depth) in the kernel); the root reaps them and hands
// their end back through a shared slot; the root becomes a child subreaper and every child gets
// PR_SET_PDEATHSIG(SIGKILL), so a dying parent takes its subtree along and the root reaps
// the orphans: no zombie survives endSeed(). At most `parallelism` timelines compute at once
// across the whole tree (a process-shared semaphore of run tokens); a parent waiting for its
// children holds no token.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moonpool::explorer {

// ---- configuration ----------------------------------------------------------------------

enum class EnergyMode : std::uint8_t {
  // Every split forks `timelinesPerSplit` children while global energy lasts.
  kFixed,
  // Batches per split, a budget per mark, barren marks give their budget to a shared pool.
  kAdaptive,
};

struct AdaptiveEnergy {
  std::uint32_t batch = 8;           // children forked between two productivity checks
  std::uint32_t timelinesMin = 24;   // a mark is not judged barren before this many children
  std::uint32_t timelinesMax = 96;   // children per split, at most
  std::uint64_t perMarkEnergy = 192; // a mark's budget for the whole seed (then the pool)
  // timelinesMin on a warm start (seeds after the first, when coverage carries over);
  // 0 means `batch`.
  std::uint32_t warmTimelinesMin = 0;
};

enum class EdgeCoverage : std::uint8_t {
  kOn,   // edge novelty counts as productivity when an EdgeSource is registered
  kOff,  // assertion bitmap only (to measure what edges add)
};

enum class BugPolicy : std::uint8_t {
  kContinue,     // keep exploring after a bug; every bug is counted, the first is recorded
  kStopAtFirst,  // no new fork anywhere in the tree once a bug is found
};

// The order in which timelines are searched (README.md "Search order").
enum class SearchOrder : std::uint8_t {
  // Timelines fork at their discoveries; with parallelism > 1 the root's children's subtrees
  // run side by side, so what is found depends on timing.
  kFast,
  // Recipes as jobs: the root coordinates, workers (forked by the root, depth 1) replay a
  // recipe and run it to the end without splitting, recording their candidate splitpoints;
  // the root merges their results strictly in job order (depth-first, as one worker would).
  // Same seed and configuration: same jobs, bugs and stats for any parallelism.
  kFixed,
};

struct Config {
  // Timelines one root seed may fork in total (the global energy of a seed).
  std::uint64_t energyPerSeed = 4000;
  // Forks nest at most this deep (0: never fork).
  std::uint32_t depthMax = 32;
  EnergyMode mode = EnergyMode::kAdaptive;
  std::uint32_t timelinesPerSplit = 4;  // kFixed
  AdaptiveEnergy adaptive{};            // kAdaptive
  // Timelines computing at once across the tree; 1 is sequential.
  std::uint32_t parallelism = 1;
  EdgeCoverage edges = EdgeCoverage::kOn;
  BugPolicy bugs = BugPolicy::kContinue;
  // Cheap deep timelines: a timeline at this depth or deeper does not fork its children
  // itself; the root forks them from its own splitpoint and each replays its recipe up to the
  // split (fork cost grows with the depth of the process tree; a replay of the prefix is
  // usually far cheaper). 0: every timeline forks its own children. Needs RngHooks::replay.
  std::uint32_t respawnDepth = 2;
  // Wall-clock watchdog per forked timeline, in milliseconds: a timeline running longer is
  // killed and reported as a hang (liveness) with its recipe. 0: no watchdog.
  std::uint64_t timelineWallMsMax = 60'000;
  SearchOrder order = SearchOrder::kFast;
};

inline constexpr std::uint32_t kParallelismMax = 256;
inline constexpr std::uint32_t kDepthMax = 1024;
inline constexpr std::uint32_t kRecipeStepsMax = kDepthMax;
inline constexpr std::uint32_t kBitmapBits = 8192;
inline constexpr std::uint32_t kMarksMax = 4096;         // distinct marks with a budget
inline constexpr std::size_t kBugMessageBytesMax = 2048;  // first bug's message, truncated
// Respawned timelines waiting or running at once (the shared arena's slots); a split that
// finds none free forks its child itself.
inline constexpr std::uint32_t kRespawnSlotsMax = 256;
inline constexpr std::uint64_t kTimelineWallMsMax = 86'400'000;  // bound of the watchdog knob
// SearchOrder::kFixed: candidate splitpoints one job records (more are counted, not kept);
// jobs one seed may create (more are counted in Stats::jobOverflows, none is run); results
// computed ahead of their turn that are kept at once, per unit of parallelism (beyond, the
// one merged last is dropped and run again when its turn comes).
inline constexpr std::uint32_t kCandidatesMax = 512;
inline constexpr std::uint32_t kJobsMax = 1u << 17;
inline constexpr std::uint32_t kResultSlotsPerWorker = 4;

// Checks a configuration: empty on success, else what is wrong (one line).
// Writes at most `size` bytes (NUL included) into `error`.
bool validate(const Config& config, char* error, std::size_t size);

// ---- the recipe -------------------------------------------------------------------------

// One fork on the way to a timeline: after `count` draws of the counted stream (since its
// previous reseed), the stream was reseeded with `seed`.
struct RecipeStep {
  std::uint64_t count = 0;
  std::uint64_t seed = 0;
};

struct Recipe {
  std::uint64_t rootSeed = 0;
  std::uint32_t length = 0;
  RecipeStep steps[kRecipeStepsMax]{};
};

// "<root> + <count>@<seed hex> -> <count>@<seed hex> ..." (just "<root>" with no step).
// Returns the length it needed (like snprintf); truncated output is NUL-terminated.
std::size_t formatRecipe(const Recipe& recipe, char* out, std::size_t size);
// Parses formatRecipe's output (whitespace around tokens is free). On failure returns false
// and writes a one-line reason with the byte offset into `error`.
bool parseRecipe(const char* text, Recipe& out, char* error, std::size_t size);

// ---- hooks from the simulation ----------------------------------------------------------

enum class StateSharing : std::uint8_t { kPrivate, kShared };

struct RngHooks {
  // Draws of the counted stream since its last reseed (a reseed still pending counts as
  // done: the count is then 0).
  std::uint64_t (*callCount)(void* context) = nullptr;
  // Reseeds the counted stream with `seed` before its next draw. Returns the count that a
  // replay must see to do the same (what the recipe records).
  std::uint64_t (*reseed)(void* context, std::uint64_t seed) = nullptr;
  void* context = nullptr;
  // Optional (null: timelines always fork, Config::respawnDepth is ignored). Arms `count`
  // reseed points, the first at the current position (its count is the current callCount),
  // replacing any armed one; the simulation must then call reseedApplied() each time points
  // take effect.
  void (*replay)(void* context, const RecipeStep* steps, std::uint32_t count) = nullptr;
  // Draws since the last reseed that took effect (unlike callCount, also while a reseed is
  // pending). Needed with `replay`.
  std::uint64_t (*segmentDraws)(void* context) = nullptr;
  // Optional, SearchOrder::kFixed: makes the simulation's discovery state (the assertion table)
  // private to the calling process (kPrivate, called by the root before its first worker, so
  // every worker starts from the same state and a job's result depends on its recipe alone)
  // or shared again (kShared, after the last). Without it the caller's discoveries must
  // depend on the timeline alone.
  void (*shareState)(void* context, StateSharing sharing) = nullptr;
};

// ---- lifecycle (the root process) -------------------------------------------------------

// Maps the shared regions and arms the explorer. Call once, before any seed; fails (false and
// a reason) on a bad config or when mmap fails. Must be called after static initialization
// (the edge count is read here).
bool start(const Config& config, char* error, std::size_t size);
// Unmaps everything; the explorer is inactive again. Root only, between seeds.
void stop();
bool active();
const Config& config();

// Starts a root seed: resets per-seed state (energy, stats, the first-bug claim, the mark
// budgets) and keeps what carries over (explored map, edge history). `hooks` must stay valid
// until endSeed().
void beginSeed(std::uint64_t seed, RngHooks hooks);
// Ends the root seed: merges the root timeline's own coverage, reaps stray orphans.
void endSeed();

// ---- inside a timeline ------------------------------------------------------------------

// A discovery at mark `markHash` (the assertion site, and bucket for sometimes_each kinds:
// energy is budgeted per mark): sets bit `bitHash % kBitmapBits` of this timeline's
// bitmap and may fork children here (returns in every one of them as the new timeline, and
// in the parent once its children are done).
void discovery(std::uint64_t markHash, std::uint64_t bitHash);

// How SearchOrder::kFixed judges a candidate splitpoint (kFast ignores it). kOncePerSeed: the
// first job to reach its bit this seed splits there (assertion discoveries: a worker reports
// them against the state its seed started from). kEveryTimeline: every timeline reaching it
// may split there (fault decisions: the first fault of a kind on a timeline's path).
enum class Novelty : std::uint8_t { kOncePerSeed, kEveryTimeline };
void discovery(std::uint64_t markHash, std::uint64_t bitHash, Novelty novelty);

// The simulation applied reseed points: `appliedTotal` have taken effect this seed. A
// respawned timeline replays silently (no discovery splits or counts) until its last point.
void reseedApplied(std::uint64_t appliedTotal);

// True in a forked timeline (not the root).
bool inChild();
std::uint32_t depth();
// This timeline's recipe (the root's has no step).
const Recipe& currentRecipe();

// Exit class of a forked timeline (STYLE rule 8: the parent classifies without parsing).
enum class TimelineEnd : std::uint8_t {
  kPass = 0,
  kCorrectness = 42,  // an always/unreachable failed, a check reported a violation
  kLiveness = 43,     // deadlock, livelock, simulated-time budget
  kCrash = 44,        // the service threw where it must not, the run failed
  kEnvironment = 45,  // the timeline could not run (resources)
};
const char* timelineEndName(TimelineEnd end);

// Ends a forked timeline: records the first bug (recipe, class, message) when `end` is not
// kPass, hands the edge counters to the parent, and _exit()s with the class code.
[[noreturn]] void endChildTimeline(TimelineEnd end, const char* message);

// ---- results ----------------------------------------------------------------------------

struct Bug {
  Recipe recipe{};
  TimelineEnd end = TimelineEnd::kPass;
  int signal = 0;               // non-zero: the child was killed by this signal
  int exitStatus = 0;           // the raw exit status when it was not a class code
  std::uint32_t depth = 0;
  std::uint64_t timelinesBefore = 0;  // timelines started in this seed when it was found
  std::uint64_t wallNs = 0;           // wall time from beginSeed to the bug (monotonic clock)
  char message[kBugMessageBytesMax]{};
};

struct Stats {
  std::uint64_t timelines = 0;       // forked timelines started (this seed)
  std::uint64_t splits = 0;          // splitpoints that forked at least one child
  std::uint64_t productive = 0;      // children that added bitmap bits or edge buckets
  std::uint64_t bugs = 0;            // children that ended in a bug (incl. signals)
  std::uint64_t signals = 0;         // of which killed by a signal
  std::uint64_t energyLeft = 0;      // global energy left
  std::uint64_t poolLeft = 0;        // adaptive reallocation pool left
  std::uint64_t barrenMarks = 0;     // adaptive: mark budgets given back
  std::uint64_t markOverflows = 0;   // adaptive: splits not taken, the mark table was full
  std::uint64_t respawned = 0;       // timelines forked by the root and replayed to their split
  std::uint64_t hangs = 0;           // timelines killed by the wall-clock watchdog
  std::uint32_t depthReachedMax = 0;
  std::uint64_t bitmapBits = 0;      // explored-map bits set (carried over seeds)
  std::uint64_t edgesTotal = 0;      // edge counters in the binary (0: not instrumented)
  std::uint64_t edgesCovered = 0;    // edges with a non-zero history bucket (carried over)
  // SearchOrder::kFixed (deterministic, like the figures above):
  std::uint64_t candidateOverflows = 0;  // candidates beyond kCandidatesMax in a job, dropped
  std::uint64_t jobOverflows = 0;        // jobs not created: the seed's job table was full
  // SearchOrder::kFixed scheduling (these vary with parallelism and timing):
  std::uint64_t workersRun = 0;      // worker processes started (jobs, and reruns)
  std::uint64_t resultsDropped = 0;  // results computed ahead and dropped for lack of a slot
  // CPU the jobs cost (each worker's, with its fork), and the search's critical path in the
  // same CPU time: the wall time it would take with `parallelism` idle cores (the root's own
  // work left out). Load-independent figures for what parallel workers buy.
  std::uint64_t jobsCpuNs = 0;
  std::uint64_t criticalPathNs = 0;
};

// ---- interruption and progress ----------------------------------------------------------

// Stops exploration tree-wide; async-signal-safe (a SIGINT/SIGTERM handler calls it). No
// timeline forks any more; a forked timeline kills its children and _exit()s at once; the
// root kills its children (their subtrees follow through PR_SET_PDEATHSIG) and returns: the
// split it is in reaps them, endSeed() reaps the orphans. Timelines that end after an
// interrupt without a bug class of their own (killed, or ended by the interrupt) are not
// bugs. No-op when the explorer is not started.
void interrupt();
// True once interrupt() was called during this seed (in any timeline of the tree).
bool interrupted();

// Called by the root while it waits for forked timelines: after each child it reaps and at
// least every kWaitHookEveryMs while none ends (for a progress line). Null: none. The hook
// runs in the root only, outside any signal handler.
using WaitHook = void (*)(void* context);
inline constexpr int kWaitHookEveryMs = 250;
void setWaitHook(WaitHook hook, void* context);

// This seed's statistics (valid in the root after endSeed(), and live during the seed).
Stats seedStats();
// The first bug of this seed, or null.
const Bug* firstBug();

}  // namespace moonpool::explorer
