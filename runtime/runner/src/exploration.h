// The runner's side of exploration and replay (runtime/ runner layer, private).
//
// The explorer (explorer/) is a leaf: it knows seeds, draw counts and marks, nothing else.
// This file connects it to a run:
//   - the assertion table becomes MAP_SHARED, so forked timelines count into one table and
//     each discovery is first-wins across them;
//   - the assertion layer's discovery hook turns a Discovery into a mark (the site's file,
//     line, kind and message, plus the bucket for sometimes_each kinds: stable across runs,
//     unlike addresses) and a bitmap bit (the mark, plus the value reached for watermarks,
//     frontiers and qualities), and calls explorer::discovery(), which may fork;
//   - each root seed arms the explorer with the simulation's counted stream as RNG hooks;
//   - a forked timeline that finishes its seed ends through endExploredTimeline(), with the
//     exit class of its verdict, after folding its workload metrics and fault counts into a
//     shared table (timeline_totals.h) that endSeed() reads into SeedExploration.
//   - in the fixed search order, where workers count on private tables, each worker folds its
//     assertion hits into a shared accumulator that the session adds to the table when it
//     closes (explored_hits.h), so the report counts them.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/runner/report.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/world.h"

namespace moonpool::internal {

class ExplorationSession {
 public:
  // Starts the explorer (one per process at a time) and installs the discovery hook.
  static absl::StatusOr<std::unique_ptr<ExplorationSession>> open(const explorer::Config& config);
  ~ExplorationSession();
  ExplorationSession(const ExplorationSession&) = delete;
  ExplorationSession& operator=(const ExplorationSession&) = delete;

  // Root only, around each seed's simulation.
  void beginSeed(Simulation& sim);
  // Once the seed's world exists: its faults become splitpoints (fault decisions).
  void attachWorld(SimWorld& world);
  SeedExploration endSeed();

  // The explored map and the covered edges so far, into report.exploredMap and
  // report.coveredEdges (RunReport's layout), and their sizes into the report's totals.
  // Root only, after the last seed.
  static void copyMaps(RunReport& report);

  // "trace-pc-guard", ... or "" without an edge source; and its edge count.
  static std::string edgeMode();
  static std::uint64_t edgeCount();

 private:
  ExplorationSession() = default;
};

// True in a forked timeline.
bool inExploredTimeline();

// Ends a forked timeline with its seed's verdict (exit class and message); never returns.
[[noreturn]] void endExploredTimeline(const SeedResult& result);

// The reseed points of a recipe, for SimRandomProvider::setReseedPoints.
std::vector<ReseedPoint> reseedPoints(const explorer::Recipe& recipe);

std::string formatRecipe(const explorer::Recipe& recipe);

}  // namespace moonpool::internal
