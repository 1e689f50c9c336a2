// The bank on virtual actors (examples/bank): accounts and a durable two-phase transfer.
//
// Every operation carries an id chosen by the caller, and an account applies each id at most
// once (it remembers applied and refused ids in its durable state), so a caller that lost an
// answer (an at-most-once call that may have been delivered) asks again with the same id and
// gets the first outcome. A transfer is an actor of its own, keyed by the transfer's id: it
// writes its phase before each step (debit the source, credit the target), so a transfer cut
// by a crash resumes where it stopped when it is run again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moonpool/actors/actor.h"
#include "moonpool/actors/state.h"
#include "moonpool/task.h"

namespace bank {

struct [[moonpool::message]] AccountRecord {
  int64_t balance = 0;
  std::vector<int64_t> applied;  // ids of operations applied
  std::vector<int64_t> refused;  // ids of withdrawals refused (they would overdraw)
};

struct [[moonpool::message]] TransferRecord {
  std::string from;
  std::string to;
  int64_t amount = 0;
  int32_t phase = 0;  // TransferPhase
};

// Operation ids of a transfer's two steps, apart from the tellers' own ids (below 2^40).
inline constexpr int64_t kTransferOpBase = int64_t{1} << 40;
// The most operation ids an account remembers; one more is refused (kStateIo).
inline constexpr std::size_t kAppliedMax = 100'000;

class [[moonpool::actor]] Account {
 public:
  explicit Account(moonpool::actors::ActorContext& context);
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;
  ~Account();

  // Applies operation `opId` once: adds `amount` (negative: a withdrawal, refused when it
  // would overdraw). Returns the balance after it, or -1 when it was refused.
  moonpool::Task<int64_t> apply(int64_t opId, int64_t amount);
  [[moonpool::reentrant]] moonpool::Task<int64_t> balance();
  [[moonpool::reentrant]] moonpool::Task<std::vector<int64_t>> applied();
  // Asks itself for a turn while holding one: the runtime refuses (kDeadlock). Returns 1
  // when it was refused, as it must be.
  moonpool::Task<int64_t> audit();

  moonpool::Task<void> onActivate();
  moonpool::Task<void> onDeactivate();

 private:
  moonpool::Task<void> reloadIfStale();

  moonpool::actors::ActorContext& context_;
  moonpool::actors::ActorState<AccountRecord> state_;
  bool stale_ = false;  // a write failed: the stored state may differ from ours
  // For the ghost registry: why this activation ended (bank.cpp).
  bool activated_ = false;    // onActivate succeeded
  bool deactivated_ = false;  // onDeactivate ran (idle)
};

class [[moonpool::actor]] Transfer {
 public:
  explicit Transfer(moonpool::actors::ActorContext& context);

  // Moves `amount` from `from` to `to` once (the transfer's key is its id). Returns true when
  // done, false when refused (the source would overdraw). Run again after a failure, it
  // resumes from its stored phase; its arguments must be the same.
  moonpool::Task<bool> run(std::string from, std::string to, int64_t amount);

  moonpool::Task<void> onActivate();

 private:
  // Writes the record; after a failed write the next run() reloads it first.
  moonpool::Task<void> save();

  moonpool::actors::ActorContext& context_;
  moonpool::actors::ActorState<TransferRecord> state_;
  bool stale_ = false;
};

// The ghost registry (per seed): activations live now, by key, over every process, and the
// bank hosts' runtimes, so that an account's next activation can tell how the last one ended
// (deactivated, its host went down, or its host lost the lease).
void resetGhosts();

// A bank host's entry in the ghost registry. Declared before the host's runtime (so it is
// destroyed after it); up() once the runtime exists, goingDown() first thing in the host's
// destructor (the runtime's activations are destroyed next, and record why they ended).
class GhostHost {
 public:
  GhostHost() = default;
  GhostHost(const GhostHost&) = delete;
  GhostHost& operator=(const GhostHost&) = delete;
  ~GhostHost();

  void up(const moonpool::actors::ActorRuntime& runtime);
  void goingDown();

 private:
  const moonpool::actors::ActorRuntime* runtime_ = nullptr;
};

}  // namespace bank
