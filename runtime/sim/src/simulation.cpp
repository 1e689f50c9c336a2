// Simulated time and random providers.
#include "moonpool/sim/simulation.h"

namespace moonpool {

Task<void> SimTimeProvider::sleep(Duration delay) { co_await executor_.sleep(delay); }

SimRandomProvider::SimRandomProvider(std::uint64_t runSeed, SimExecutor* executor)
    : runSeed_(runSeed), executor_(executor), main_(deriveSeed(runSeed, "main")) {}

void SimRandomProvider::reseed(std::uint64_t seed) {
  main_ = RandomStream(seed);
  calls_ = 0;
}

std::uint64_t SimRandomProvider::reseedAtNextDraw(std::uint64_t seed) {
  const std::uint64_t count = countForReseed();
  points_.push_back(ReseedPoint{.count = count, .seed = seed});
  updateNextBreak();
  return count;
}

void SimRandomProvider::setReseedPoints(std::vector<ReseedPoint> points) {
  points_ = std::move(points);
  next_ = 0;
  updateNextBreak();
}

void SimRandomProvider::updateNextBreak() {
  nextBreak_ = next_ < points_.size() ? points_[next_].count : kNoBreak;
}

void SimRandomProvider::applyPoints() {
  const std::uint64_t before = applied_;
  while (next_ < points_.size() && calls_ == points_[next_].count) {
    const std::uint64_t seed = points_[next_].seed;
    main_ = RandomStream(deriveSeed(seed, "main"));
    if (executor_ != nullptr) executor_->reseedScheduler(deriveSeed(seed, "scheduler"));
    calls_ = 0;
    ++next_;
    ++applied_;
  }
  updateNextBreak();
  if (applied_ == before) return;
  const std::uint64_t seed = points_[next_ - 1].seed;
  for (const Listener& listener : listeners_) {
    if (listener.call != nullptr) listener.call(listener.context, applied_, seed);
  }
}

void SimRandomProvider::addAppliedListener(AppliedListener listener, void* context) {
  for (Listener& slot : listeners_) {
    if (slot.call == nullptr || slot.context == context) {
      slot = Listener{.call = listener, .context = context};
      return;
    }
  }
  MOONPOOL_CHECK(false, "more than kListenersMax reseed listeners");
}

void SimRandomProvider::removeAppliedListener(void* context) {
  for (Listener& slot : listeners_) {
    if (slot.context == context) slot = Listener{};
  }
}

std::uint64_t SimRandomProvider::nextU64() {
  if (calls_ == nextBreak_) [[unlikely]] applyPoints();
  ++calls_;
  return main_.next();
}

RandomStream SimRandomProvider::derive(std::string_view name) {
  MOONPOOL_CHECK(name != "main" && name != "scheduler", "that stream name is reserved");
  return RandomStream(deriveSeed(runSeed_, name));
}

Simulation::Simulation(SimOptions options)
    : executor_(options),
      time_(executor_),
      random_(options.seed, &executor_),
      tasks_(executor_.rootGroup()) {}

}  // namespace moonpool
