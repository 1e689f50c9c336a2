// The actor runtime of one process (capnp/ layer): activations by (type, key), their turns,
// and idle deactivation. Generated ActorRef<A> methods call through it.
//
// Turns. Every call of a kExclusive method (the default) waits for the activation's turn
// (moonpool/sync.h Mutex: FIFO, cancel-safe) and holds it to completion, across its
// co_awaits, so calls never interleave and run in arrival order. kInterleaved methods
// ([[moonpool::reentrant]] on the method or on the actor) skip the queue once the actor is
// active, and run beside whatever turn is in progress.
//
// Call chains. A turn belongs to the call chain of the task that made the call (a call
// runs in its caller's task, as a function call does, so a chain is one task). A
// kExclusive call into an activation held by its own chain (a self-call, or A -> B -> A)
// would wait forever; it fails at once with ActorError kDeadlock. So does a wait that would
// close a cycle of chains waiting on each other's activations (chain 1 holds A and waits for
// B, chain 2 holds B and asks for A). Not seen: work a turn spawns as a separate task (its
// calls start a chain of their own; waiting on them from the turn can still deadlock), and
// calls a turn runs concurrently in one task through whenAll (one chain: a call among them
// into an activation another of them holds is refused although it would only wait).
//
// Activation. The first call to a key builds the actor from its type's factory and runs
// its onActivate (when it has one) inside that first turn; if either throws, the activation
// is discarded and that call fails with ActorError kActivationFailed (the calls queued
// behind it try a fresh activation each). An activation idle for ActorOptions::idleTimeout
// (no call running or queued) is deactivated by a sweep that runs every collectInterval:
// it takes the turn, runs onDeactivate (an exception is counted, not thrown: the
// activation goes regardless), then destroys the actor; calls that queued meanwhile
// activate it afresh.
//
// Lifetime: the runtime outlives every call made through it and every ActorRef to it; it
// must be constructed inside a Task (its sweeper goes into providers.tasks()'s group, so a
// killed simulated process loses its activations with it, without onDeactivate, as a crash
// would). Destroying it destroys the activations without onDeactivate. Determinism: the
// tables are ordered maps, timing comes from the TimeProvider.
#pragma once

#include <capnp/any.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "moonpool/actors/actor.h"
#include "moonpool/providers.h"
#include "moonpool/spawn.h"
#include "moonpool/sync.h"
#include "moonpool/task.h"
#include "moonpool/time.h"

namespace moonpool::actors {

class StateStore;
class ActorCluster;

struct ActorOptions {
  // An activation without calls for this long is deactivated by the next sweep.
  Duration idleTimeout = std::chrono::minutes(5);
  // How often the sweep looks for idle activations.
  Duration collectInterval = std::chrono::seconds(30);
  // Live activations in this runtime; an activation past it fails kTooManyActivations.
  std::size_t activationsMax = 100'000;
  // Calls waiting for one activation's turn; one more fails kQueueFull.
  std::size_t queuedCallsMax = 1'000;
};

// Empty when valid, otherwise what is wrong ("idleTimeout must be > 0").
std::string validateActorOptions(const ActorOptions& options);

struct ActorStats {
  std::uint64_t calls = 0;
  std::uint64_t interleavedCalls = 0;  // kInterleaved calls that ran beside a turn
  std::uint64_t activations = 0;
  std::uint64_t activationFailures = 0;
  std::uint64_t deactivations = 0;
  std::uint64_t deactivationFailures = 0;  // onDeactivate threw
  std::uint64_t deadlocksRefused = 0;
  std::uint64_t queueFullRefused = 0;
  std::uint64_t retriedAfterDeactivation = 0;  // a waiting call found its activation gone
  std::uint64_t drops = 0;  // activations dropped when their lease ended (cluster.h)
  std::uint64_t abandonedTurns = 0;     // turns whose local caller went away; they ran on
  std::uint64_t abandonedFailures = 0;  // of those, the ones that failed
};

namespace internal {

// One actor object behind a type-erased face: its hooks, when it has them.
class ActorBox {
 public:
  virtual ~ActorBox() = default;
  virtual Task<void> activate() = 0;
  virtual Task<void> deactivate() = 0;
  virtual void* object() = 0;
};

template <typename A>
class TypedActorBox final : public ActorBox {
 public:
  explicit TypedActorBox(std::unique_ptr<A> actor) : actor_(std::move(actor)) {}

  // implements ActorBox
  Task<void> activate() override {
    if constexpr (requires(A& actor) { actor.onActivate(); }) co_await actor_->onActivate();
    co_return;
  }
  Task<void> deactivate() override {
    if constexpr (requires(A& actor) { actor.onDeactivate(); }) co_await actor_->onDeactivate();
    co_return;
  }
  void* object() override { return actor_.get(); }

 private:
  std::unique_ptr<A> actor_;
};

using ActorFactory = std::function<std::unique_ptr<ActorBox>(ActorContext&)>;

// Where a remote call's answer goes (the gateway's results, cluster.h): init() returns the
// place for the method's Results struct, its first segment sized for about `wordsHint`
// words. Called at most once, after the turn, by the generated dispatch.
class ActorResults {
 public:
  virtual ::capnp::AnyPointer::Builder init(unsigned wordsHint) = 0;

 protected:
  ~ActorResults() = default;
};

// Runs the method of schema ordinal `method` of the activation of one key, in a turn of call
// chain `chain`, its parameters read from `params` (the method's Params struct) and its
// result written to `results`: the generated ActorRef<A>::dispatch, which throws ActorError
// kUnknownMethod for an ordinal the type does not have.
using ActorDispatch = Task<void> (*)(ActorRuntime& runtime, ActorKey key, std::uint64_t chain,
                                     std::uint16_t method, ::capnp::AnyPointer::Reader params,
                                     ActorResults& results);

// What ActorRef<A>::dispatch returns for an ordinal A has not: a Task that fails with
// ActorError kUnknownMethod (a peer built from another version of A's header).
Task<void> unknownActorMethod(std::string typeName, std::uint16_t method);

// Orders (type name, key) pairs, and compares them with views of one (a string_view and a
// key reference), so that lookups build no string.
struct ActorIdLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    int order = std::string_view(a.first).compare(std::string_view(b.first));
    if (order != 0) return order < 0;
    return a.second < b.second;
  }
};
using ActorId = std::pair<std::string, ActorKey>;
using ActorIdView = std::pair<std::string_view, const ActorKey&>;

enum class ActivationState : std::uint8_t { kNew, kActive, kDeactivating, kDead };

struct Activation {
  Activation(ActorRuntime& runtime, std::string_view typeName, ActorKey key)
      : context(runtime, typeName, std::move(key)) {}

  ActorContext context;          // outlives `box`
  std::unique_ptr<ActorBox> box;  // set by the first turn
  Mutex turn;
  ActivationState state = ActivationState::kNew;
  std::uint64_t holder = 0;      // the call chain holding the turn; 0: none
  std::size_t busy = 0;          // calls running (in a turn or interleaved)
  std::size_t queued = 0;        // calls waiting for the turn
  TimePoint lastUsed{};
};

}  // namespace internal

// A call's hold on an activation: its turn (kExclusive), or a place beside it. Ends when
// destroyed. Only ActorRuntime::invoke uses it.
class Turn {
 public:
  Turn(ActorRuntime& runtime, std::shared_ptr<internal::Activation> activation);
  Turn(Turn&& other) noexcept = default;
  Turn& operator=(Turn&&) = delete;
  Turn(const Turn&) = delete;
  ~Turn();

  template <typename A>
  A& actor() const {
    return *static_cast<A*>(activation_->box->object());
  }

 private:
  friend class ActorRuntime;
  ActorRuntime* runtime_;
  std::shared_ptr<internal::Activation> activation_;
  std::optional<Mutex::Guard> guard_;
  bool counted_ = false;  // busy was incremented
};

class ActorRuntime {
 public:
  // Options are checked (validateActorOptions): invalid ones are a bug.
  explicit ActorRuntime(Providers providers, ActorOptions options = {});
  ActorRuntime(const ActorRuntime&) = delete;
  ActorRuntime& operator=(const ActorRuntime&) = delete;
  ~ActorRuntime();

  // Registers the factory of actor type A: `factory(ActorContext&)` returns
  // std::unique_ptr<A>. A type registered twice is a bug (checked).
  template <typename A, typename Factory>
  void add(Factory factory) {
    addType(ActorRef<A>::kTypeName, &ActorRef<A>::dispatch,
            [factory = std::move(factory)](
                ActorContext& context) -> std::unique_ptr<internal::ActorBox> {
              return std::make_unique<internal::TypedActorBox<A>>(factory(context));
            });
  }

  template <typename A>
  ActorRef<A> ref(ActorKey key) {
    return ActorRef<A>(*this, std::move(key));
  }

  // One sweep now: deactivates every activation idle for idleTimeout. Returns how many.
  Task<std::size_t> collectIdle();
  // Deactivates every activation that is not busy now (a clean shutdown), whatever its
  // idle time. Returns how many.
  Task<std::size_t> deactivateAll();

  std::size_t activationCount() const { return activations_.size(); }
  template <typename A>
  bool isActive(const ActorKey& key) const {
    return isActive(ActorRef<A>::kTypeName, key);
  }
  bool isActive(std::string_view typeName, const ActorKey& key) const;
  // Where ActorState<T> (state.h) keeps the states of this runtime's actors; `store`
  // outlives the runtime. Until set, constructing an ActorState is a bug (checked).
  void setStateStore(StateStore& store) { stateStore_ = &store; }
  // The cluster this runtime's actors are placed by (cluster.h sets and clears it); null:
  // every key is activated here.
  void setCluster(ActorCluster* cluster) { cluster_ = cluster; }
  ActorCluster* cluster() const { return cluster_; }
  // True unless the runtime is in a cluster and this host does not hold the key's lease.
  bool serving(std::string_view typeName, const ActorKey& key) const;
  // Discards the activation of (typeName, key) now, without onDeactivate (its lease ended):
  // queued calls find it gone and are routed again. A turn in progress runs on, but can
  // no longer write its state or call actors (ActorContext::serving), even after this host
  // claims the key again for a new activation. Returns whether there was one.
  bool drop(std::string_view typeName, const ActorKey& key);
  // The generated dispatch of `typeName`'s remote calls (a host's gateway runs them); throws
  // ActorError kUnknownType for an unregistered type.
  internal::ActorDispatch dispatcher(std::string_view typeName) const;
  StateStore* stateStore() const { return stateStore_; }
  const ActorStats& stats() const { return stats_; }
  const ActorOptions& options() const { return options_; }
  Providers providers() const { return providers_; }

  // Runs `(actor.*member)(args...)` in a turn of the activation of (typeName, key), as a
  // call of call chain `chain` (callerChain() for a call made here): the generated code calls
  // this with its arguments' values. The turn runs as a task of its own (in the runtime's
  // group, paused with the creating task's), which is how the calls it makes know their
  // call chain. A turn runs to completion: if the caller's Task is destroyed (it gave up,
  // or its RPC caller cancelled) the turn is abandoned, not cancelled, so an actor is never
  // cut between changing its memory and writing its state (stats: abandonedTurns).
  template <typename A, typename R, typename Member, typename... Args>
  Task<R> invoke(std::string_view typeName, ActorKey key, MethodInfo method,
                 std::uint64_t chain, Member member, Args... args) {
    JoinHandle<R> turn = turns_->spawn(
        method.name, runTurn<A, R>(typeName, std::move(key), method, chain, member,
                                   std::tuple<Args...>(std::move(args)...)));
    AbandonIfCancelled<R> abandon{*this, turn};
    try {
      if constexpr (std::is_void_v<R>) {
        co_await turn.join();
        abandon.joined = true;
      } else {
        R value = co_await turn.join();
        abandon.joined = true;
        co_return value;
      }
    } catch (...) {
      abandon.joined = true;  // its failure is the caller's now
      throw;
    }
  }

  // invoke() for a host's gateway: when the call already runs in a task of its own that
  // runs this one call and that its caller never cancels (the gateway does not let a remote
  // caller cancel: a turn runs to completion, as invoke's abandoned turns do), the turn runs
  // in that task, saving invoke's task per call. A call driven with no task (toPromise with
  // an owner group makes it a member of the group, not a task) takes invoke's path: a turn
  // is known by its task (its call chain, the deadlock check).
  template <typename A, typename R, typename Member, typename... Args>
  [[clang::coro_wrapper]] Task<R> invokeInTask(std::string_view typeName, ActorKey key,
                                               MethodInfo method, std::uint64_t chain,
                                               Member member, Args... args) {
    if (!runsInTask()) {
      return invoke<A, R>(typeName, std::move(key), method, chain, member,
                          std::move(args)...);
    }
    return runTurn<A, R>(typeName, std::move(key), method, chain, member,
                         std::tuple<Args...>(std::move(args)...));
  }

  // Whether the calling code runs inside a task (invokeInTask).
  static bool runsInTask();

  // The chain of the running turn task, or a new chain for a call from outside any turn.
  // Unique across runtimes (a random prefix), since chains travel between processes.
  std::uint64_t callerChain();
  // Throws ActorError kNotHere when the running task is a turn whose activation no longer
  // serves its key (ActorContext::serving): such a turn may not act on other actors.
  void checkCallerServing(std::string_view method, std::string_view typeName,
                          const ActorKey& key) const;

 private:
  friend class Turn;

  // Detaches a turn whose caller went away before it joined it (see invoke): still running,
  // or ended (a failure the caller was cancelled before it could see).
  template <typename R>
  struct AbandonIfCancelled {
    ActorRuntime& runtime;
    JoinHandle<R>& turn;
    bool joined = false;
    ~AbandonIfCancelled() {
      if (!turn.valid() || joined) return;
      if (!turn.done()) ++runtime.stats_.abandonedTurns;
      ActorStats* stats = &runtime.stats_;
      // Nobody awaits it any more: its failure is counted (the caller already has its own
      // error: it was cancelled).
      turn.detach([stats](const TaskFailure&) { ++stats->abandonedFailures; });
    }
  };

  struct TurnTask {
    std::uint64_t chain = 0;
    const ActorContext* context = nullptr;
  };

  // While a turn's task runs, the calls it makes belong to its chain.
  class ChainScope {
   public:
    ChainScope(ActorRuntime& runtime, std::uint64_t chain);
    ChainScope(const ChainScope&) = delete;
    ChainScope& operator=(const ChainScope&) = delete;
    ~ChainScope();
    // The activation the turn runs in, once it has entered it.
    void bind(const ActorContext& context);

   private:
    ActorRuntime& runtime_;
    std::map<std::uint64_t, TurnTask>::iterator entry_;
  };

  template <typename A, typename R, typename Member, typename... Args>
  Task<R> runTurn(std::string_view typeName, ActorKey key, MethodInfo method,
                  std::uint64_t chain, Member member, std::tuple<Args...> args) {
    ChainScope scope(*this, chain);
    Turn turn = co_await enter(typeName, std::move(key), method, chain);
    scope.bind(turn.activation_->context);
    if constexpr (std::is_void_v<R>) {
      co_await callMember<R>(turn.actor<A>(), member, args, std::index_sequence_for<Args...>{});
    } else {
      co_return co_await callMember<R>(turn.actor<A>(), member, args,
                                       std::index_sequence_for<Args...>{});
    }
  }

  // The method's Task, its arguments moved out of the turn's frame (which outlives it).
  template <typename R, typename A, typename Member, typename Tuple, std::size_t... index>
  [[clang::coro_wrapper]] static Task<R> callMember(A& actor, Member member, Tuple& args,
                                                    std::index_sequence<index...>) {
    return (actor.*member)(std::move(std::get<index>(args))...);
  }

  using Table =
      std::map<internal::ActorId, std::shared_ptr<internal::Activation>, internal::ActorIdLess>;

  // Attempts to find a live activation before giving up with kUnavailable (each failed
  // attempt means the activation was deactivated or discarded while the call waited).
  static constexpr int kEnterAttemptsMax = 8;

  void addType(std::string_view typeName, internal::ActorDispatch dispatch,
               internal::ActorFactory factory);
  Task<Turn> enter(std::string_view typeName, ActorKey key, MethodInfo method,
                   std::uint64_t chain);
  Task<void> waitForTurn(Turn& turn, std::uint64_t chain, const MethodInfo& method);
  Task<void> activate(internal::Activation& activation);
  std::shared_ptr<internal::Activation> findOrCreate(std::string_view typeName,
                                                     const ActorKey& key);
  void checkNoDeadlock(const internal::Activation& activation, std::uint64_t chain,
                       const MethodInfo& method);
  void discard(const internal::Activation& activation);
  void checkServing(std::string_view typeName, const ActorKey& key,
                    const MethodInfo& method) const;
  Task<std::size_t> deactivateWhere(bool onlyIdle);
  Task<bool> deactivate(std::shared_ptr<internal::Activation> activation);
  Task<void> sweepForever();

  Providers providers_;
  ActorOptions options_;
  ActorStats stats_;
  struct TypeEntry {
    internal::ActorFactory factory;
    internal::ActorDispatch dispatch;
  };
  std::map<std::string, TypeEntry, std::less<>> types_;
  Table activations_;
  // Tasks running turns -> their call chain, and the activation each runs in once it has
  // entered it (checkCallerServing).
  std::map<std::uint64_t, TurnTask> turnTasks_;
  // Call chains waiting for a turn -> the activations they wait for (deadlock detection;
  // a chain waits for several when a turn makes concurrent calls).
  std::multimap<std::uint64_t, const internal::Activation*> waiting_;
  std::uint64_t lastChain_ = 0;
  std::uint64_t chainPrefix_;  // random, in the top 24 bits
  StateStore* stateStore_ = nullptr;
  ActorCluster* cluster_ = nullptr;
  // The turns' tasks: cancelled first when the runtime goes, while the tables still live.
  std::unique_ptr<TaskGroup> turns_;
  JoinHandle<void> sweeper_;            // last: cancelled first
};

}  // namespace moonpool::actors
