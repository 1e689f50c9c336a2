// What a run prints while it runs (runtime/ runner layer, private): each failing seed as soon
// as it is known, and the progress.
//
// Progress (stderr):
//   on a terminal   one live line redrawn at most every kRedrawEvery ('\r', erased before any
//                   other output): seeds done and per second, failures, explored bugs,
//                   timelines when exploring, and the ETA when the run is bounded (a seed
//                   count or a wall budget);
//   otherwise       a pulse line (ending in '\n', never '\r') every `pulseEvery`, from
//                   kPulseAfter into the run on (from the start with Progress::kOn).
// During exploration the explorer's wait hook calls tick() while the root waits for its
// timelines, so the line moves within a seed too.
#pragma once

#include <cstdio>
#include <optional>

#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/report.h"
#include "moonpool/runner/runner.h"

namespace moonpool::internal {

inline constexpr Duration kRedrawEvery = std::chrono::milliseconds(250);
inline constexpr Duration kPulseAfter = std::chrono::seconds(3);

class LiveOutput {
 public:
  // `report` is the run's (read for its counts); `bound` the iteration control in effect.
  LiveOutput(const RunReport& report, const RunOptions& options, const IterationControl& bound,
             const WallTimer& wall);
  LiveOutput(const LiveOutput&) = delete;
  LiveOutput& operator=(const LiveOutput&) = delete;

  // After a seed was added to the report: streams it when it failed, redraws.
  void seedDone(const SeedResult& seed);
  // Between seeds' ends (the explorer's wait hook): redraws when due.
  void tick();
  // The run is over: ends the live line.
  void finish();

 private:
  enum class Mode : std::uint8_t { kNone, kLine, kPulse };
  std::string status() const;
  void draw(bool force);
  void clearLine();

  const RunReport& report_;
  const RunOptions& options_;
  IterationControl bound_;
  const WallTimer& wall_;
  Mode mode_ = Mode::kNone;
  bool lineShown_ = false;
  std::optional<Duration> lastDraw_{};
};

}  // namespace moonpool::internal
