// The actor runtime: activation table, turns, deadlock detection, idle sweeps (runtime.h).
#include "moonpool/actors/runtime.h"

#include "moonpool/actors/cluster.h"

#include <exception>
#include <set>
#include <string>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/executor.h"
#include "moonpool/internal/spawn.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/kj/bridge.h"

namespace moonpool::actors {
namespace {

// A chain id: a random per-runtime prefix over a counter, so chains from different
// processes never meet by accident (a meeting would be a false kDeadlock).
constexpr int kChainCounterBits = 40;
constexpr std::uint64_t kChainCounterMax = (std::uint64_t{1} << kChainCounterBits) - 1;

std::string describe(std::string_view typeName, const ActorKey& key) {
  return std::string(typeName) + " " + key.toString();
}

}  // namespace

namespace internal {

Task<void> unknownActorMethod(std::string typeName, std::uint16_t method) {
  throw ActorError(ActorFailure::kUnknownMethod,
                   typeName + " has no method of ordinal " +
                       std::to_string(method) +
                       " (was the caller built from another version of its header?)");
  co_return;
}

}  // namespace internal

std::string validateActorOptions(const ActorOptions& options) {
  if (options.idleTimeout <= Duration::zero()) return "idleTimeout must be > 0";
  if (options.collectInterval <= Duration::zero()) return "collectInterval must be > 0";
  if (options.activationsMax == 0) return "activationsMax must be > 0";
  if (options.queuedCallsMax == 0) return "queuedCallsMax must be > 0";
  return "";
}

Turn::Turn(ActorRuntime& runtime, std::shared_ptr<internal::Activation> activation)
    : runtime_(&runtime), activation_(std::move(activation)) {}

Turn::~Turn() {
  if (activation_ == nullptr) return;  // moved from
  if (counted_) {
    MOONPOOL_CHECK_GT(activation_->busy, 0u, "an activation's busy count went negative");
    --activation_->busy;
    activation_->lastUsed = runtime_->providers_.time().now();
  }
  // Cleared before the guard goes: releasing hands the turn straight to the next waiter.
  if (guard_.has_value()) activation_->holder = 0;
}

ActorRuntime::ActorRuntime(Providers providers, ActorOptions options)
    : providers_(providers),
      options_(options),
      chainPrefix_((providers.random().nextU64() | 1) << kChainCounterBits) {
  std::string problem = validateActorOptions(options_);
  MOONPOOL_CHECK(problem.empty(), "invalid ActorOptions: " + problem);
  turns_ = std::make_unique<TaskGroup>(Executor::current(), "actor turns");
  if (TaskGroup* owner = currentTaskGroup()) turns_->pauseWith(*owner);
  sweeper_ = providers_.tasks().spawn("actor idle sweeper", sweepForever());
}

ActorRuntime::~ActorRuntime() {
  sweeper_.cancel();
  turns_.reset();
  // Activations may still be referenced by calls' Turns only if a call outlives the
  // runtime, which is a bug (runtime.h "Lifetime"); the table goes with the runtime.
  activations_.clear();
}

void ActorRuntime::addType(std::string_view typeName, internal::ActorDispatch dispatch,
                           internal::ActorFactory factory) {
  MOONPOOL_CHECK(dispatch != nullptr, "actor type " + std::string(typeName) + " has no dispatch");
  bool added =
      types_.emplace(std::string(typeName), TypeEntry{std::move(factory), dispatch}).second;
  MOONPOOL_CHECK(added, "actor type " + std::string(typeName) + " registered twice");
}

bool ActorRuntime::isActive(std::string_view typeName, const ActorKey& key) const {
  auto found = activations_.find(internal::ActorIdView(typeName, key));
  return found != activations_.end() &&
         found->second->state == internal::ActivationState::kActive;
}

namespace {

std::uint64_t currentTaskId() {
  Executor* executor = Executor::tryCurrent();
  ::moonpool::internal::TaskRecord* task =
      executor == nullptr ? nullptr : executor->taskRegistry().current();
  return task == nullptr ? 0 : task->id;
}

}  // namespace

bool ActorRuntime::runsInTask() { return currentTaskId() != 0; }

ActorRuntime::ChainScope::ChainScope(ActorRuntime& runtime, std::uint64_t chain)
    : runtime_(runtime) {
  const std::uint64_t task = currentTaskId();
  MOONPOOL_CHECK_NE(task, 0u, "a turn runs outside a task");
  auto [entry, added] = runtime_.turnTasks_.emplace(task, TurnTask{.chain = chain});
  MOONPOOL_CHECK(added, "task " + std::to_string(task) + " runs two turns");
  entry_ = entry;
}

ActorRuntime::ChainScope::~ChainScope() { runtime_.turnTasks_.erase(entry_); }

void ActorRuntime::ChainScope::bind(const ActorContext& context) {
  entry_->second.context = &context;
}

void ActorRuntime::checkCallerServing(std::string_view method, std::string_view typeName,
                                      const ActorKey& key) const {
  auto found = turnTasks_.find(currentTaskId());
  if (found == turnTasks_.end() || found->second.context == nullptr ||
      found->second.context->serving()) {
    return;
  }
  const ActorContext& caller = *found->second.context;
  throw ActorError(ActorFailure::kNotHere,
                   std::string(method) + " on " + describe(typeName, key) + " not sent: " +
                       "the calling activation of " +
                       describe(caller.typeName(), caller.key()) +
                       " no longer serves its key (its lease ended or it went away)");
}

std::uint64_t ActorRuntime::callerChain() {
  auto found = turnTasks_.find(currentTaskId());
  if (found != turnTasks_.end()) return found->second.chain;
  MOONPOOL_CHECK_LT(lastChain_, kChainCounterMax, "this runtime ran out of call chains");
  return chainPrefix_ | ++lastChain_;
}

bool ActorRuntime::serving(std::string_view typeName, const ActorKey& key) const {
  return cluster_ == nullptr || cluster_->holds(typeName, key);
}

void ActorRuntime::checkServing(std::string_view typeName, const ActorKey& key,
                                const MethodInfo& method) const {
  if (serving(typeName, key)) return;
  throw ActorError(ActorFailure::kNotHere, std::string(method.name) + " on " +
                                               describe(typeName, key) +
                                               ": this host does not hold the key's lease");
}

bool ActorRuntime::drop(std::string_view typeName, const ActorKey& key) {
  auto found = activations_.find(internal::ActorIdView(typeName, key));
  if (found == activations_.end()) return false;
  ++stats_.drops;
  found->second->state = internal::ActivationState::kDead;
  found->second->context.retired_ = true;
  activations_.erase(found);
  return true;
}

internal::ActorDispatch ActorRuntime::dispatcher(std::string_view typeName) const {
  auto found = types_.find(typeName);
  if (found == types_.end()) {
    throw ActorError(ActorFailure::kUnknownType,
                     "no factory for actor type " + std::string(typeName) + " on this host");
  }
  return found->second.dispatch;
}

std::shared_ptr<internal::Activation> ActorRuntime::findOrCreate(std::string_view typeName,
                                                                 const ActorKey& key) {
  auto found = activations_.find(internal::ActorIdView(typeName, key));
  if (found != activations_.end()) return found->second;
  if (types_.find(typeName) == types_.end()) {
    throw ActorError(ActorFailure::kUnknownType,
                     "no factory for actor type " + std::string(typeName) +
                         " in this runtime (call ActorRuntime::add<T>(factory) first)");
  }
  if (activations_.size() >= options_.activationsMax) {
    throw ActorError(ActorFailure::kTooManyActivations,
                     "cannot activate " + describe(typeName, key) + ": activationsMax (" +
                         std::to_string(options_.activationsMax) + ") activations are live");
  }
  auto activation = std::make_shared<internal::Activation>(*this, typeName, key);
  activation->lastUsed = providers_.time().now();
  activations_.emplace(internal::ActorId(typeName, key), activation);
  return activation;
}

// A kExclusive call into an activation held by its own chain, or one whose wait would close
// a cycle of chains (each holding an activation the next one waits for), never ends.
void ActorRuntime::checkNoDeadlock(const internal::Activation& activation, std::uint64_t chain,
                                   const MethodInfo& method) {
  // A free turn (the common case: an idle activation) closes no cycle, and costs nothing
  // to check: no walk, and the target's name is built only for an error.
  if (activation.holder == 0) return;
  auto target = [&activation] {
    return describe(activation.context.typeName(), activation.context.key());
  };
  if (activation.holder == chain) {
    ++stats_.deadlocksRefused;
    throw ActorError(ActorFailure::kDeadlock,
                     std::string(method.name) + " on " + target() +
                         ": the caller's own call chain holds this activation's turn (a "
                         "call to itself, directly or through other actors), so it would "
                         "wait forever; mark the method or the actor [[moonpool::reentrant]] "
                         "or avoid the call");
  }
  // Depth-first over chains: from the holder, through every activation it waits for, to
  // that activation's holder. Each chain is visited once.
  std::vector<std::uint64_t> pending{activation.holder};
  std::set<std::uint64_t> seen;
  while (!pending.empty()) {
    std::uint64_t holder = pending.back();
    pending.pop_back();
    if (holder == 0 || !seen.insert(holder).second) continue;
    auto [begin, end] = waiting_.equal_range(holder);
    for (auto waits = begin; waits != end; ++waits) {
      std::uint64_t next = waits->second->holder;
      if (next != chain) {
        pending.push_back(next);
        continue;
      }
      ++stats_.deadlocksRefused;
      throw ActorError(ActorFailure::kDeadlock,
                       std::string(method.name) + " on " + target() +
                           ": waiting would close a cycle (its holder waits, through other "
                           "actors, for an activation this call chain holds); mark a "
                           "method [[moonpool::reentrant]] or break the cycle");
    }
  }
}

Task<void> ActorRuntime::waitForTurn(Turn& turn, std::uint64_t chain, const MethodInfo& method) {
  internal::Activation& activation = *turn.activation_;
  checkNoDeadlock(activation, chain, method);
  if (activation.queued >= options_.queuedCallsMax) {
    ++stats_.queueFullRefused;
    throw ActorError(ActorFailure::kQueueFull,
                     std::string(method.name) + " on " +
                         describe(activation.context.typeName(), activation.context.key()) +
                         ": queuedCallsMax (" + std::to_string(options_.queuedCallsMax) +
                         ") calls already wait for its turn");
  }
  ++activation.queued;
  struct Unqueue {  // also on cancellation while waiting
    ActorRuntime& runtime;
    internal::Activation& activation;
    std::multimap<std::uint64_t, const internal::Activation*>::iterator entry;
    ~Unqueue() {
      --activation.queued;
      runtime.waiting_.erase(entry);
    }
  } unqueue{*this, activation, waiting_.emplace(chain, &activation)};
  Mutex::Guard guard = co_await activation.turn.lock();
  MOONPOOL_CHECK_EQ(activation.holder, 0u, "a turn was handed over while still held");
  activation.holder = chain;
  turn.guard_.emplace(std::move(guard));
}

Task<void> ActorRuntime::activate(internal::Activation& activation) {
  std::exception_ptr failure;
  try {
    auto type = types_.find(activation.context.typeName());
    MOONPOOL_CHECK(type != types_.end(), "an activation of an unregistered type");
    activation.box = type->second.factory(activation.context);
    MOONPOOL_CHECK(activation.box != nullptr && activation.box->object() != nullptr,
                   "the factory of " + std::string(activation.context.typeName()) +
                       " returned no actor");
    co_await activation.box->activate();
  } catch (const std::exception&) {
    failure = std::current_exception();
  }
  if (failure == nullptr) {
    activation.state = internal::ActivationState::kActive;
    ++stats_.activations;
    co_return;
  }
  ++stats_.activationFailures;
  discard(activation);
  throw ActorError(ActorFailure::kActivationFailed,
                   "activating " +
                       describe(activation.context.typeName(), activation.context.key()) +
                       " failed (the activation was discarded): " +
                       describeException(failure));
}

void ActorRuntime::discard(const internal::Activation& activation) {
  auto found = activations_.find(
      internal::ActorIdView(activation.context.typeName(), activation.context.key()));
  if (found != activations_.end() && found->second.get() == &activation) {
    found->second->state = internal::ActivationState::kDead;
    found->second->context.retired_ = true;
    activations_.erase(found);
  }
}

Task<Turn> ActorRuntime::enter(std::string_view typeName, ActorKey key, MethodInfo method,
                               std::uint64_t chain) {
  ++stats_.calls;
  for (int attempt = 0; attempt < kEnterAttemptsMax; ++attempt) {
    checkServing(typeName, key, method);
    Turn turn(*this, findOrCreate(typeName, key));
    internal::Activation& activation = *turn.activation_;
    bool beside = method.turns == Turns::kInterleaved &&
                  activation.state == internal::ActivationState::kActive;
    if (!beside) co_await waitForTurn(turn, chain, method);
    checkServing(typeName, key, method);  // again: the lease may have ended while we waited
    if (activation.state == internal::ActivationState::kDead) {
      ++stats_.retriedAfterDeactivation;  // deactivated or discarded while we waited
      continue;
    }
    if (activation.state == internal::ActivationState::kNew) co_await activate(activation);
    MOONPOOL_CHECK(activation.state == internal::ActivationState::kActive,
                   "a call entered " + describe(typeName, key) + " while it was not active");
    if (beside && activation.holder != 0) ++stats_.interleavedCalls;
    ++activation.busy;
    turn.counted_ = true;
    co_return turn;
  }
  throw ActorError(ActorFailure::kUnavailable,
                   std::string(method.name) + " on " + describe(typeName, key) +
                       ": the activation went away " + std::to_string(kEnterAttemptsMax) +
                       " times while the call waited for it");
}

Task<bool> ActorRuntime::deactivate(std::shared_ptr<internal::Activation> activation) {
  std::optional<Mutex::Guard> guard = activation->turn.tryLock();
  if (!guard.has_value() || activation->busy != 0 ||
      activation->state != internal::ActivationState::kActive) {
    co_return false;
  }
  activation->state = internal::ActivationState::kDeactivating;
  bool failed = false;
  try {
    co_await activation->box->deactivate();
  } catch (const std::exception&) {
    failed = true;
  }
  if (failed) ++stats_.deactivationFailures;
  ++stats_.deactivations;
  discard(*activation);
  co_return true;
}

Task<std::size_t> ActorRuntime::deactivateWhere(bool onlyIdle) {
  // A snapshot: deactivations await, and the table changes meanwhile.
  std::vector<std::shared_ptr<internal::Activation>> candidates;
  const TimePoint now = providers_.time().now();
  for (const auto& [id, activation] : activations_) {
    if (onlyIdle && now - activation->lastUsed < options_.idleTimeout) continue;
    if (activation->queued != 0) continue;
    candidates.push_back(activation);
  }
  std::size_t done = 0;
  for (std::shared_ptr<internal::Activation>& activation : candidates) {
    if (co_await deactivate(std::move(activation))) ++done;
  }
  co_return done;
}

Task<std::size_t> ActorRuntime::collectIdle() {
  co_return co_await deactivateWhere(/*onlyIdle=*/true);
}

Task<std::size_t> ActorRuntime::deactivateAll() {
  co_return co_await deactivateWhere(/*onlyIdle=*/false);
}

Task<void> ActorRuntime::sweepForever() {
  for (;;) {
    co_await providers_.time().sleep(options_.collectInterval);
    co_await collectIdle();
  }
}

}  // namespace moonpool::actors
