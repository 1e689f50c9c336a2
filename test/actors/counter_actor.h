// Test actors for the actor runtime (test/actors): a counter whose add reads, sleeps and
// writes (interleaved calls would lose updates), with a reentrant variant per method and
// one per type, relays for self-calls and cycles, and hooks that log to a Journal; a
// wallet whose purse is durable state (ActorState).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moonpool/actors/actor.h"
#include "moonpool/actors/state.h"
#include "moonpool/task.h"

namespace actortest {

// What the actors saw, for the tests to check: "activate 'a'", "add 'a' 1", ...
struct Journal {
  std::vector<std::string> lines;
  // Keys whose onActivate throws.
  std::vector<std::string> failActivation;
  // Counters activated and not yet destroyed, by key, over every process (a ghost
  // registry), and the most ever live at once for one key.
  std::map<std::string, int> live;
  int liveMax = 0;
};

class [[moonpool::actor]] Counter {
 public:
  Counter(moonpool::actors::ActorContext& context, Journal& journal)
      : context_(context), journal_(journal) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  ~Counter();

  // Reads, sleeps 10 ms, writes: one turn at a time keeps it exact.
  moonpool::Task<int64_t> add(int64_t amount);
  // The same, marked reentrant: concurrent calls interleave and lose updates.
  [[moonpool::reentrant]] moonpool::Task<int64_t> addInterleaved(int64_t amount);
  [[moonpool::reentrant]] moonpool::Task<int64_t> get();
  // Sleeps `delayMs`, then calls relay(rest of path) on the actor path[0], or returns the
  // value when the path is empty.
  moonpool::Task<int64_t> relay(std::vector<std::string> path, int64_t delayMs);

  moonpool::Task<void> onActivate();
  moonpool::Task<void> onDeactivate();

 private:
  moonpool::actors::ActorContext& context_;
  Journal& journal_;
  int64_t value_ = 0;
  bool live_ = false;  // counted in journal_.live
};

// Reentrant as a type: every method interleaves.
class [[moonpool::actor, moonpool::reentrant]] Gossip {
 public:
  Gossip(moonpool::actors::ActorContext& context, Journal& journal)
      : context_(context), journal_(journal) {}

  moonpool::Task<int64_t> add(int64_t amount);
  moonpool::Task<int64_t> relay(std::vector<std::string> path, int64_t delayMs);

 private:
  moonpool::actors::ActorContext& context_;
  Journal& journal_;
  int64_t value_ = 0;
};

// The durable state of a Wallet.
struct [[moonpool::message]] Purse {
  int64_t balance = 0;
  std::vector<std::string> history;
};

// Keeps a Purse in an ActorState: loaded by onActivate, written by every deposit.
class [[moonpool::actor]] Wallet {
 public:
  explicit Wallet(moonpool::actors::ActorContext& context) : state_(context) {}

  moonpool::Task<int64_t> deposit(int64_t amount);
  [[moonpool::reentrant]] moonpool::Task<int64_t> balance();
  [[moonpool::reentrant]] moonpool::Task<uint64_t> etag();

  moonpool::Task<void> onActivate();

 private:
  moonpool::actors::ActorState<Purse> state_;
};

// A plain service shaped like Counter::get: the benchmark's baseline (actor_bench.cpp).
class [[moonpool::service]] Probe {
 public:
  virtual ~Probe() = default;
  virtual moonpool::Task<int64_t> get() = 0;
};

}  // namespace actortest
