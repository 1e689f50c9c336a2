// What a run prints while it runs (see live.h).
#include "live.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "moonpool/explorer/explorer.h"
#include "report_util.h"

namespace moonpool::internal {
namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string durationText(double s) {
  if (s < 60) return fixed(s, 0) + " s";
  if (s < 3600) return fixed(s / 60, 1) + " min";
  return fixed(s / 3600, 1) + " h";
}

}  // namespace

LiveOutput::LiveOutput(const RunReport& report, const RunOptions& options,
                       const IterationControl& bound, const WallTimer& wall)
    : report_(report), options_(options), bound_(bound), wall_(wall) {
  const bool terminal = isatty(STDERR_FILENO) == 1;
  if (options.progress == Progress::kOff) return;
  mode_ = terminal ? Mode::kLine : Mode::kPulse;
  if (mode_ == Mode::kPulse && options.pulseEvery <= Duration{0}) mode_ = Mode::kNone;
}

std::string LiveOutput::status() const {
  const double elapsed = seconds(wall_.elapsed());
  const std::uint64_t done = report_.seedCount();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string out = report_.name + ": " + std::to_string(done) + " seeds";
  if (!options_.seed && !options_.replay && bound_.mode == IterationControl::Mode::kFixedCount) {
    out += " of " + std::to_string(bound_.count);
  }
  // Slow seeds (explored ones take seconds) keep two significant digits.
  out += " (" + fixed(rate, rate < 1 ? 3 : 1) + "/s), " + std::to_string(report_.failedCount()) +
         " failed";
  if (report_.explored) {
    const explorer::Stats live = explorer::seedStats();
    const std::uint64_t timelines = report_.totals.exploration.timelines + live.timelines;
    out += ", " + std::to_string(report_.exploredBugCount()) + " explored bugs, " +
           std::to_string(timelines) + " timelines";
    if (live.bugs > 0) out += " (" + std::to_string(live.bugs) + " failing in this seed)";
  }
  out += ", " + durationText(elapsed);
  double left = -1;
  if (bound_.mode == IterationControl::Mode::kFixedCount && rate > 0 && !options_.seed) {
    left = static_cast<double>(bound_.count - std::min(bound_.count, done)) / rate;
  } else if (bound_.mode == IterationControl::Mode::kWallBudget) {
    left = std::max(0.0, seconds(bound_.wallBudget) - elapsed);
  }
  if (left >= 0) out += ", ETA " + durationText(left);
  return out;
}

void LiveOutput::clearLine() {
  if (!lineShown_) return;
  std::fputs("\r\033[K", stderr);
  lineShown_ = false;
}

void LiveOutput::draw(bool force) {
  if (mode_ == Mode::kNone) return;
  const Duration now = wall_.elapsed();
  if (mode_ == Mode::kLine) {
    if (!force && lastDraw_ && now - *lastDraw_ < kRedrawEvery) return;
    lastDraw_ = now;
    std::fputs(("\r\033[K  " + status()).c_str(), stderr);
    lineShown_ = true;
    std::fflush(stderr);
    return;
  }
  const bool started = options_.progress == Progress::kOn || now >= kPulseAfter;
  if (!force && (!started || (lastDraw_ && now - *lastDraw_ < options_.pulseEvery))) return;
  lastDraw_ = now;
  std::fputs(("[progress] " + status() + "\n").c_str(), stderr);
  std::fflush(stderr);
}

void LiveOutput::seedDone(const SeedResult& seed) {
  if (seed.verdict != SeedVerdict::kPass && options_.failureStream != nullptr) {
    clearLine();
    std::fputs(("FAILED " + renderFailingSeed(report_, seed).substr(2)).c_str(),
               options_.failureStream);
    std::fflush(options_.failureStream);
  }
  draw(false);
}

void LiveOutput::tick() { draw(false); }

void LiveOutput::finish() {
  // A run that showed progress ends it with its final counts.
  if (mode_ == Mode::kPulse && lastDraw_) draw(true);
  if (mode_ != Mode::kLine || !lineShown_) return;
  draw(true);
  std::fputs("\n", stderr);
  lineShown_ = false;
}

}  // namespace moonpool::internal
