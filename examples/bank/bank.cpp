// The bank's actors (bank.h) and the ghost registry the checks read.
#include "bank.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "bank.moonpool.h"
#include "moonpool/assertions.h"

namespace bank {
namespace {

using moonpool::Task;
using moonpool::actors::ActorError;
using moonpool::actors::ActorFailure;

enum TransferPhase : int32_t { kNew = 0, kDebiting = 1, kCrediting = 2, kRefused = 3, kDone = 4 };

// How an account's activation ended, as its next activation learns it.
enum class Ended : std::uint8_t {
  kDeactivated,  // idle: onDeactivate ran
  kHostDown,     // its host's process went down (a crash, a wipe, a reboot)
  kLeaseLost,    // dropped by its host: the lease ran out (partitioned, paused, registry down)
  kOther,        // destroyed while still serving (the seed's world ended)
};

// The activations of every process of the seed (one OS process: plain maps; parallel seeds
// are separate processes), by "<type>/<key>". An activation counts from its onActivate until
// it is destroyed or stops serving the key (ActorContext::serving: its lease ended, or it was
// dropped; a paused or cut-off host cannot drop its objects yet, and a dropped activation's
// turn runs on, but neither can act for the key any more). Read from any
// process, which only the simulation (one thread, one address space) allows. The maps keyed
// by runtime address are for lookup only, never iterated (STYLE.md rule 10).
struct Ghosts {
  std::multimap<std::string, const moonpool::actors::ActorContext*> live;
  std::map<const void*, std::uint64_t> hosts;  // a live host's runtime -> its serial
  std::set<const void*> goingDown;             // runtimes of hosts being destroyed
  std::uint64_t nextHost = 1;
  std::map<std::string, std::uint64_t> lastHost;  // key -> serial of its last host
  std::map<std::string, Ended> lastEnd;           // key -> how its last activation ended
};

Ghosts& ghosts() {
  static Ghosts instance;
  return instance;
}

std::string ghostKey(const moonpool::actors::ActorContext& context) {
  return std::string(context.typeName()) + "/" + context.key().toString();
}

// Other activations of the same key that still act for it.
int othersServing(const moonpool::actors::ActorContext& self) {
  int others = 0;
  auto [begin, end] = ghosts().live.equal_range(ghostKey(self));
  for (auto it = begin; it != end; ++it) {
    const moonpool::actors::ActorContext& other = *it->second;
    others += &other != &self && other.serving();
  }
  return others;
}

void forget(const moonpool::actors::ActorContext& self) {
  auto [begin, end] = ghosts().live.equal_range(ghostKey(self));
  for (auto it = begin; it != end; ++it) {
    if (it->second == &self) {
      ghosts().live.erase(it);
      return;
    }
  }
}

bool contains(const std::vector<int64_t>& ids, int64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void resetGhosts() { ghosts() = Ghosts{}; }

void GhostHost::up(const moonpool::actors::ActorRuntime& runtime) {
  Ghosts& g = ghosts();
  MOONPOOL_CHECK(runtime_ == nullptr, "GhostHost::up() called twice");
  MOONPOOL_CHECK(g.hosts.count(&runtime) == 0, "a bank host's runtime registered twice");
  runtime_ = &runtime;
  g.hosts[runtime_] = g.nextHost++;
}

void GhostHost::goingDown() {
  if (runtime_ != nullptr) ghosts().goingDown.insert(runtime_);
}

GhostHost::~GhostHost() {
  if (runtime_ == nullptr) return;
  ghosts().hosts.erase(runtime_);
  ghosts().goingDown.erase(runtime_);
}

Account::Account(moonpool::actors::ActorContext& context)
    : context_(context), state_(context) {}

Account::~Account() {
  Ghosts& g = ghosts();
  if (activated_) {
    const void* runtime = &context_.runtime();
    g.lastEnd[ghostKey(context_)] = deactivated_                 ? Ended::kDeactivated
                                    : g.goingDown.count(runtime) ? Ended::kHostDown
                                    : !context_.serving()        ? Ended::kLeaseLost
                                                                 : Ended::kOther;
  }
  forget(context_);
}

Task<void> Account::onActivate() {
  Ghosts& g = ghosts();
  const std::string key = ghostKey(context_);
  MOONPOOL_ALWAYS(othersServing(context_) == 0,
                  "at most one activation of an account at any time");
  g.live.emplace(key, &context_);
  auto host = g.hosts.find(&context_.runtime());
  MOONPOOL_CHECK(host != g.hosts.end(), "an account was activated outside the bank hosts");
  auto last = g.lastHost.find(key);
  const bool moved = last != g.lastHost.end() && last->second != host->second;
  auto ended = g.lastEnd.find(key);
  const Ended how = ended == g.lastEnd.end() ? Ended::kOther : ended->second;
  MOONPOOL_SOMETIMES(moved, "an account was activated on another host than before");
  MOONPOOL_SOMETIMES(moved && how == Ended::kHostDown,
                     "an account was activated again after its host went down");
  MOONPOOL_SOMETIMES(moved && how == Ended::kLeaseLost,
                     "an account was re-placed after its host lost the lease (partitioned "
                     "or paused)");
  g.lastHost[key] = host->second;
  co_await state_.load();
  MOONPOOL_SOMETIMES(state_.etag() > 0, "an account was activated from its stored state");
  activated_ = true;
}

Task<void> Account::onDeactivate() {
  MOONPOOL_REACHABLE("an idle account was deactivated");
  deactivated_ = true;
  co_return;
}

Task<void> Account::reloadIfStale() {
  if (!stale_) co_return;
  co_await state_.load();
  stale_ = false;
}

Task<int64_t> Account::apply(int64_t opId, int64_t amount) {
  co_await reloadIfStale();
  AccountRecord& record = state_.value();
  if (contains(record.applied, opId)) co_return record.balance;  // a retry: the first outcome
  if (contains(record.refused, opId)) co_return -1;
  if (record.applied.size() + record.refused.size() >= kAppliedMax) {
    throw ActorError(ActorFailure::kStateIo, "account " + context_.key().toString() +
                                                 " remembers kAppliedMax operations");
  }
  const bool refuse = record.balance + amount < 0;
  if (refuse) {
    record.refused.push_back(opId);
  } else {
    record.balance += amount;
    record.applied.push_back(opId);
  }
  // Checked when the write is sent (ActorState refuses it if this activation no longer
  // serves). A write still in flight when the lease ends may land after another activation
  // took over; the etag decides it then (load's fencing write makes it a conflict).
  MOONPOOL_ALWAYS(!context_.serving() || othersServing(context_) == 0,
                  "an account's state is written by its only activation");
  bool conflict = false;
  try {
    co_await state_.write();
  } catch (const moonpool::Exception& error) {
    stale_ = true;  // whatever happened, the next call starts from the stored state
    const auto* actorError = dynamic_cast<const ActorError*>(&error);
    conflict = actorError != nullptr && actorError->failure() == ActorFailure::kStateConflict;
    if (!conflict) throw;
  }
  if (conflict) {
    throw ActorError(ActorFailure::kStateConflict,
                     "account " + context_.key().toString() + " was written by someone else");
  }
  co_return refuse ? -1 : record.balance;
}

Task<int64_t> Account::balance() {
  co_await reloadIfStale();
  co_return state_.value().balance;
}

Task<std::vector<int64_t>> Account::applied() {
  co_await reloadIfStale();
  co_return state_.value().applied;
}

Task<int64_t> Account::audit() {
  moonpool::actors::ActorRef<Account> self =
      context_.runtime().ref<Account>(context_.key());
  bool refused = false;
  try {
    co_await self.apply(0, 0);
  } catch (const ActorError& error) {
    refused = error.failure() == ActorFailure::kDeadlock;
    if (!refused) throw;
  }
  MOONPOOL_ALWAYS(refused, "a self-call under exclusive turns is refused");
  MOONPOOL_SOMETIMES(refused, "a self-call was refused instead of deadlocking");
  co_return refused ? 1 : 0;
}

Transfer::Transfer(moonpool::actors::ActorContext& context)
    : context_(context), state_(context) {}

Task<void> Transfer::onActivate() { co_await state_.load(); }

// A transfer's record only moves forward and its steps are idempotent, so a save whose
// answer was lost needs no reload: if it landed, the next save meets a newer etag (a
// conflict), and only then does the transfer reload and go on from the stored phase.
Task<void> Transfer::save() {
  bool conflict = false;
  try {
    co_await state_.write();
  } catch (const ActorError& error) {
    conflict = error.failure() == ActorFailure::kStateConflict;
    if (!conflict) throw;
  }
  MOONPOOL_SOMETIMES(conflict, "a stale etag was refused");
  if (!conflict) co_return;
  stale_ = true;
  throw ActorError(ActorFailure::kStateConflict,
                   "transfer " + context_.key().toString() + " was saved by an earlier try");
}

Task<bool> Transfer::run(std::string from, std::string to, int64_t amount) {
  if (stale_) {
    co_await state_.load();
    stale_ = false;
  }
  TransferRecord& record = state_.value();
  const int64_t id = context_.key().number();
  if (record.phase == kNew) {
    record = TransferRecord{from, to, amount, kDebiting};
    co_await save();
  }
  MOONPOOL_ALWAYS(record.from == from && record.to == to && record.amount == amount,
                  "a transfer is always run with its first arguments");
  auto accounts = [this](const std::string& key) {
    return context_.runtime().ref<Account>(key);
  };
  if (record.phase == kDebiting) {
    const int64_t after = co_await accounts(record.from).apply(kTransferOpBase + 2 * id,
                                                               -record.amount);
    record.phase = after < 0 ? kRefused : kCrediting;
    co_await save();
  }
  if (record.phase == kCrediting) {
    MOONPOOL_SOMETIMES(true, "a transfer reached its credit step");
    co_await accounts(record.to).apply(kTransferOpBase + 2 * id + 1, record.amount);
    record.phase = kDone;
    co_await save();
  }
  co_return record.phase == kDone;
}

}  // namespace bank
