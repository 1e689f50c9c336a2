// The runner's side of exploration and replay (see exploration.h).
#include "exploration.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/recording.h"
#include "moonpool/internal/assertion_region.h"
#include "moonpool/internal/fnv1a.h"
#include "moonpool/random.h"
#include "explored_hits.h"
#include "report_util.h"
#include "timeline_totals.h"

namespace moonpool::internal {
namespace {

// The open session's table of timeline totals (inherited by every forked timeline); null
// when no session is open or the table could not be mapped.
TimelineTotals* gTimelineTotals = nullptr;

std::uint64_t mix(std::uint64_t x) { return splitMix64(x); }

// A site's identity from its constant record: the same in every run of the same sources.
std::uint64_t siteHash(const AssertionSite& site) {
  const std::uint64_t hash =
      internal::fnv1a(site.message, internal::fnv1a(site.where.file_name()));
  return mix(hash ^ (std::uint64_t{site.where.line()} << 32) ^ site.where.column() ^
             (static_cast<std::uint64_t>(site.kind) << 56));
}

// A sometimes_each bucket's identity. The fast order uses its index, stable on the one shared
// table; the fixed order's workers each claim buckets in a private copy of the table, where
// one index can hold different keys, so the keys name it.
std::uint64_t bucketIdentity(const Discovery& discovery) {
  if (explorer::config().order != explorer::SearchOrder::kFixed) {
    return std::uint64_t{discovery.bucket} + 1;
  }
  const SiteCounters& counters = countersFor(*discovery.site);
  MOONPOOL_CHECK_LT(discovery.bucket, counters.bucketsMax, "a discovery's bucket is out of range");
  const Bucket& bucket = bucketAt(counters.bucketsFirst + discovery.bucket);
  std::uint64_t identity = 0x6b657973ull;  // "keys"
  for (std::uint32_t i = 0; i < bucket.keyCount && i < kBucketKeysMax; ++i) {
    identity = mix(identity ^ static_cast<std::uint64_t>(bucket.keys[i]));
  }
  return identity;
}

void onDiscovery(const Discovery& discovery, void* /*context*/) {
  std::uint64_t mark = siteHash(*discovery.site);
  const bool perBucket = discovery.kind == DiscoveryKind::kNewBucket ||
                         discovery.kind == DiscoveryKind::kBetterQuality;
  if (perBucket) mark = mix(mark ^ bucketIdentity(discovery));
  const bool valued = discovery.kind == DiscoveryKind::kWatermark ||
                      discovery.kind == DiscoveryKind::kFrontier ||
                      discovery.kind == DiscoveryKind::kBetterQuality;
  const std::uint64_t bit =
      valued ? mix(mark ^ static_cast<std::uint64_t>(discovery.value) ^ 0x5bd1e995ull) : mark;
  explorer::discovery(mark, bit);
}

// A fault decision (the world injected a fault) is a splitpoint: the first fault of each kind
// on a timeline's path. Its children diverge right after it, and a reseed redraws the world's
// pending fault timers (SimWorld::onReseed), so children vary what follows the fault, such
// as when the next crash comes.
void onFault(void* /*context*/, std::string_view kind, std::uint64_t count) {
  if (count != 1) return;
  const std::uint64_t mark = mix(internal::fnv1a(kind, internal::fnv1a("fault decision")));
  // Per timeline (not once per seed): the fixed search order splits every job at it.
  explorer::discovery(mark, mark, explorer::Novelty::kEveryTimeline);
}

std::uint64_t hookCallCount(void* context) {
  return static_cast<SimRandomProvider*>(context)->countForReseed();
}

std::uint64_t hookReseed(void* context, std::uint64_t seed) {
  return static_cast<SimRandomProvider*>(context)->reseedAtNextDraw(seed);
}

// A respawned timeline (explorer.h, Config::respawnDepth) arms its whole recipe, like --replay.
void hookReplay(void* context, const explorer::RecipeStep* steps, std::uint32_t count) {
  std::vector<ReseedPoint> points;
  points.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    points.push_back(ReseedPoint{.count = steps[i].count, .seed = steps[i].seed});
  }
  static_cast<SimRandomProvider*>(context)->setReseedPoints(std::move(points));
}

std::uint64_t hookSegmentDraws(void* context) {
  return static_cast<SimRandomProvider*>(context)->callCount();
}

// The fixed search order's workers judge discoveries against the table as the root left it:
// the root makes its table private before forking them, and shared again after.
// Workers fail on their own copies, so each would print a first failure: they print none (the
// report gives the bug found, with its recipe).
void hookShareState(void* /*context*/, explorer::StateSharing sharing) {
  const bool isolated = sharing == explorer::StateSharing::kPrivate;
  // The workers' hits reach the report through the accumulator (explored_hits.h).
  if (isolated) MOONPOOL_CHECK(explorationHitsBegin(), "cannot map the explored hits");
  allocateAssertionTable(isolated ? TableSharing::kPrivate : TableSharing::kShared);
  setFailurePrinting(isolated ? FailurePrinting::kOff : FailurePrinting::kFirstPerSite);
}

void onReseedApplied(void* /*context*/, std::uint64_t applied, std::uint64_t /*seed*/) {
  explorer::reseedApplied(applied);
}

explorer::TimelineEnd endOf(const SeedResult& result) {
  switch (result.failure) {
    case SeedFailure::kNone:
      return explorer::TimelineEnd::kPass;
    case SeedFailure::kAssertion:
    case SeedFailure::kCheck:
      return explorer::TimelineEnd::kCorrectness;
    case SeedFailure::kDeadlock:
    case SeedFailure::kLivelock:
    case SeedFailure::kSimTimeBudget:
      return explorer::TimelineEnd::kLiveness;
    case SeedFailure::kWorkloadError:
    case SeedFailure::kProcessError:
    case SeedFailure::kRunFailed:
    case SeedFailure::kCrashed:
    case SeedFailure::kExplored:
      return explorer::TimelineEnd::kCrash;
    case SeedFailure::kInterrupted:
      return explorer::TimelineEnd::kEnvironment;
  }
  return explorer::TimelineEnd::kCrash;
}

std::string bugClass(const explorer::Bug& bug) {
  if (bug.signal != 0) {
    const char* name = sigdescr_np(bug.signal);
    return "signal " + std::to_string(bug.signal) + " (" + (name ? name : "unknown") + ")";
  }
  return explorer::timelineEndName(bug.end);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExplorationSession>> ExplorationSession::open(
    const explorer::Config& config) {
  char error[256] = {};
  if (!explorer::validate(config, error, sizeof error)) {
    return absl::InvalidArgumentError(std::string("exploration: ") + error);
  }
  allocateAssertionTable(TableSharing::kShared);
  if (!explorer::start(config, error, sizeof error)) {
    return absl::FailedPreconditionError(std::string("exploration: ") + error);
  }
  setDiscoveryHook(&onDiscovery, nullptr);
  gTimelineTotals = TimelineTotals::map();
  return std::unique_ptr<ExplorationSession>(new ExplorationSession());
}

ExplorationSession::~ExplorationSession() {
  explorationHitsFinish();
  clearDiscoveryHook();
  explorer::stop();
  TimelineTotals::unmap(gTimelineTotals);
  gTimelineTotals = nullptr;
}

void ExplorationSession::beginSeed(Simulation& sim) {
  MOONPOOL_CHECK(!explorer::inChild(), "a forked timeline cannot begin a seed");
  // Each seed splits on its own firsts (plain seeds of a portfolio may have run before it,
  // even before the first one); watermarks, buckets and the explored map carry over.
  rearmDiscoveries();
  if (gTimelineTotals != nullptr) gTimelineTotals->clear();
  sim.random().addAppliedListener(&onReseedApplied, this);
  explorer::beginSeed(sim.seed(), explorer::RngHooks{.callCount = &hookCallCount,
                                                     .reseed = &hookReseed,
                                                     .context = &sim.random(),
                                                     .replay = &hookReplay,
                                                     .segmentDraws = &hookSegmentDraws,
                                                     .shareState = &hookShareState});
}

void ExplorationSession::attachWorld(SimWorld& world) {
  world.timeline().setFaultListener(&onFault, nullptr);
}

SeedExploration ExplorationSession::endSeed() {
  explorer::endSeed();
  SeedExploration out;
  out.stats = explorer::seedStats();
  if (gTimelineTotals != nullptr) gTimelineTotals->read(out);
  const explorer::Bug* bug = explorer::firstBug();
  if (bug == nullptr) return out;
  out.bugFound = true;
  out.bugClass = bugClass(*bug);
  out.bugMessage = bug->message;
  out.recipe = formatRecipe(bug->recipe);
  out.bugDepth = bug->depth;
  out.timelinesToBug = bug->timelinesBefore;
  out.wallToBug = Duration(static_cast<Duration::rep>(bug->wallNs));
  return out;
}

void ExplorationSession::copyMaps(RunReport& report) {
  report.exploredMap.assign(explorer::copyExploredMap(nullptr, 0), 0);
  explorer::copyExploredMap(report.exploredMap.data(), report.exploredMap.size());
  report.coveredEdges.assign(explorer::copyCoveredEdges(nullptr, 0), 0);
  explorer::copyCoveredEdges(report.coveredEdges.data(), report.coveredEdges.size());
  // --noedge_coverage: the binary has edges, none of them watched (an empty set of them).
  if (report.coveredEdges.empty()) report.coveredEdges.assign((report.edgesTotal + 7) / 8, 0);
  // The counts are the sets' sizes, also when a seed cut short by a signal (not counted as a
  // seed) added to the maps before it stopped.
  report.totals.exploration.bitmapBits = bitCount(report.exploredMap);
  report.totals.exploration.edgesCovered = bitCount(report.coveredEdges);
}

std::string ExplorationSession::edgeMode() {
  const explorer::EdgeSource* source = explorer::edgeSource();
  return source != nullptr ? source->mode() : "";
}

std::uint64_t ExplorationSession::edgeCount() {
  const explorer::EdgeSource* source = explorer::edgeSource();
  return source != nullptr ? source->edgeCount() : 0;
}

bool inExploredTimeline() { return explorer::inChild(); }

void endExploredTimeline(const SeedResult& result) {
  if (gTimelineTotals != nullptr) gTimelineTotals->add(result.metrics, result.faultCounts);
  // A fixed-order worker's hits, on its private table. Job 0 (an empty recipe) is the root's
  // own timeline, which the root runs on after the search and counts itself.
  if (assertionTableSharing() == TableSharing::kPrivate && explorer::currentRecipe().length > 0) {
    explorationHitsFold();
  }
  const std::string message =
      result.verdict == SeedVerdict::kPass
          ? std::string()
          : std::string(seedFailureName(result.failure)) + ": " + result.message;
  explorer::endChildTimeline(endOf(result), message.c_str());
}

std::vector<ReseedPoint> reseedPoints(const explorer::Recipe& recipe) {
  std::vector<ReseedPoint> points;
  points.reserve(recipe.length);
  for (std::uint32_t i = 0; i < recipe.length; ++i) {
    points.push_back(ReseedPoint{.count = recipe.steps[i].count, .seed = recipe.steps[i].seed});
  }
  return points;
}

std::string formatRecipe(const explorer::Recipe& recipe) {
  const std::size_t needed = explorer::formatRecipe(recipe, nullptr, 0);
  std::string text(needed + 1, '\0');
  explorer::formatRecipe(recipe, text.data(), text.size());
  text.resize(needed);
  return text;
}

}  // namespace moonpool::internal
