// The test actors of counter_actor.h.
#include "counter_actor.h"

#include <algorithm>
#include <chrono>

#include "counter_actor.moonpool.h"
#include "moonpool/error.h"

namespace actortest {

using moonpool::Task;
using namespace std::chrono_literals;

namespace {

std::string keyOf(const moonpool::actors::ActorContext& context) {
  return context.key().toString();
}

}  // namespace

Task<int64_t> Counter::add(int64_t amount) {
  journal_.lines.push_back("add " + keyOf(context_) + " " + std::to_string(amount));
  const int64_t read = value_;
  co_await context_.providers().time().sleep(10ms);
  value_ = read + amount;
  co_return value_;
}

Task<int64_t> Counter::addInterleaved(int64_t amount) {
  const int64_t read = value_;
  co_await context_.providers().time().sleep(10ms);
  value_ = read + amount;
  co_return value_;
}

Task<int64_t> Counter::get() { co_return value_; }

Task<int64_t> Counter::relay(std::vector<std::string> path, int64_t delayMs) {
  co_await context_.providers().time().sleep(std::chrono::milliseconds(delayMs));
  if (path.empty()) co_return value_;
  moonpool::actors::ActorRef<Counter> next = context_.runtime().ref<Counter>(path.front());
  path.erase(path.begin());
  co_return co_await next.relay(std::move(path), 0);
}

Counter::~Counter() {
  if (live_) --journal_.live[keyOf(context_)];
}

Task<void> Counter::onActivate() {
  journal_.lines.push_back("activate " + keyOf(context_));
  live_ = true;
  const int live = ++journal_.live[keyOf(context_)];
  journal_.liveMax = std::max(journal_.liveMax, live);
  co_await context_.providers().time().sleep(1ms);
  const std::vector<std::string>& fail = journal_.failActivation;
  if (!context_.key().isNumber() &&
      std::find(fail.begin(), fail.end(), context_.key().text()) != fail.end()) {
    throw moonpool::Exception(moonpool::ErrorKind::kFailed, "the test refuses this key");
  }
}

Task<void> Counter::onDeactivate() {
  journal_.lines.push_back("deactivate " + keyOf(context_));
  co_return;
}

Task<int64_t> Gossip::add(int64_t amount) {
  journal_.lines.push_back("gossip " + keyOf(context_) + " " + std::to_string(amount));
  const int64_t read = value_;
  co_await context_.providers().time().sleep(10ms);
  value_ = read + amount;
  co_return value_;
}

Task<int64_t> Gossip::relay(std::vector<std::string> path, int64_t delayMs) {
  co_await context_.providers().time().sleep(std::chrono::milliseconds(delayMs));
  if (path.empty()) co_return value_;
  moonpool::actors::ActorRef<Gossip> next = context_.runtime().ref<Gossip>(path.front());
  path.erase(path.begin());
  co_return co_await next.relay(std::move(path), 0);
}

Task<int64_t> Wallet::deposit(int64_t amount) {
  state_.value().balance += amount;
  state_.value().history.push_back("deposit " + std::to_string(amount));
  co_await state_.write();
  co_return state_.value().balance;
}

Task<int64_t> Wallet::balance() { co_return state_.value().balance; }

Task<uint64_t> Wallet::etag() { co_return state_.etag(); }

Task<void> Wallet::onActivate() { co_await state_.load(); }

}  // namespace actortest
