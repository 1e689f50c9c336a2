// Virtual actors, the vocabulary (capnp/ layer, the actor runtime): keys, errors, the
// per-activation context, and the reference type the generated code specializes.
//
//   class [[moonpool::actor]] Counter {
//    public:
//     explicit Counter(moonpool::actors::ActorContext& context);
//     moonpool::Task<int64_t> add(int64_t amount);            // a turn of its own
//     [[moonpool::reentrant]] moonpool::Task<int64_t> peek();  // interleaves with turns
//     moonpool::Task<void> onActivate();     // optional lifecycle hooks, never remote
//     moonpool::Task<void> onDeactivate();
//   };
//
//   runtime.add<Counter>([](ActorContext& c) { return std::make_unique<Counter>(c); });
//   ActorRef<Counter> counter = runtime.ref<Counter>("alice");   // or an integer key
//   co_await counter.add(1);
//
// An actor is addressed by its type and key, never by where it lives: the first call to a
// key activates it (the factory, then onActivate), and an activation that stays idle is
// deactivated (onDeactivate, then destroyed); the next call activates it again. The
// runtime (runtime.h) states the turn discipline and its limits.
#pragma once

#include <concepts>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <variant>

#include "moonpool/error.h"
#include "moonpool/providers.h"

namespace moonpool::actors {

// An actor's key: a string or an integer (distinct: "7" is not 7). Ordered, so tables of
// activations iterate deterministically.
class ActorKey {
 public:
  ActorKey(std::string text) : value_(std::move(text)) {}
  ActorKey(std::string_view text) : value_(std::string(text)) {}
  ActorKey(const char* text) : value_(std::string(text)) {}
  template <std::integral Integer>
  ActorKey(Integer number) : value_(static_cast<std::int64_t>(number)) {}

  bool isNumber() const { return std::holds_alternative<std::int64_t>(value_); }
  // The key's value; asking a text key for its number (or the reverse) is a bug (checked).
  std::int64_t number() const;
  const std::string& text() const;
  // "'alice'" or "#42", for messages and storage names.
  std::string toString() const;

  friend bool operator==(const ActorKey&, const ActorKey&) = default;
  friend auto operator<=>(const ActorKey& a, const ActorKey& b) { return a.value_ <=> b.value_; }

 private:
  std::variant<std::int64_t, std::string> value_;
};

enum class ActorFailure : std::uint8_t {
  kActivationFailed,  // the factory or onActivate threw; the activation was discarded
  kDeadlock,          // a turn-taking call into an activation its own call chain waits on
  kQueueFull,         // ActorOptions::queuedCallsMax calls already wait for the activation
  kTooManyActivations,  // ActorOptions::activationsMax activations are live
  kUnknownType,       // no factory registered for the actor type
  kUnknownMethod,     // a remote call of a method the actor type does not have (cluster.h)
  kUnavailable,       // the activation kept going away while the call waited for it
  kStateConflict,     // writeState() with a stale etag (state.h)
  kStateCorrupt,      // stored state that does not decode (state.h)
  kStateIo,           // the state store failed (state.h)
  kNotHere,           // this host does not hold the key's lease (cluster.h)
};
std::string_view actorFailureName(ActorFailure failure);

// What the actor runtime throws. Its ErrorKind: kOverloaded for kQueueFull,
// kTooManyActivations, kUnavailable and kNotHere, kUnimplemented for kUnknownType and
// kUnknownMethod, kFailed otherwise.
class ActorError : public Exception {
 public:
  ActorError(ActorFailure failure, std::string description,
             std::source_location where = std::source_location::current());
  ActorFailure failure() const { return failure_; }

 private:
  ActorFailure failure_;
};

// How a method's calls take turns (generated from [[moonpool::reentrant]]).
enum class Turns : std::uint8_t {
  kExclusive,    // one call at a time, to completion, in arrival order (the default)
  kInterleaved,  // runs at once, interleaving with the turn in progress at its co_awaits
};

// One method of an actor type, as the generated ActorRef describes it.
struct MethodInfo {
  const char* name;  // "demo::Counter.add"
  Turns turns;
  std::uint16_t ordinal = 0;  // in the actor type's schema interface (remote calls name it)
};

class ActorRuntime;

// Given to the factory of one activation; outlives the actor object it builds.
class ActorContext {
 public:
  ActorContext(ActorRuntime& runtime, std::string_view typeName, ActorKey key)
      : runtime_(runtime), typeName_(typeName), key_(std::move(key)) {}
  ActorContext(const ActorContext&) = delete;
  ActorContext& operator=(const ActorContext&) = delete;

  const ActorKey& key() const { return key_; }
  std::string_view typeName() const { return typeName_; }
  ActorRuntime& runtime() const { return runtime_; }
  // The runtime's providers (time, random, storage...), as given to it.
  Providers providers() const;
  // True while this activation may act for its key: it is still its runtime's activation of
  // the key (not dropped when its lease ended, not discarded, not deactivated) and the
  // runtime serves the key. A turn that outlives its activation (turns run to completion)
  // sees false from then on, even once the host holds the key again for a newer
  // activation: its state writes and the actor calls it makes fail with kNotHere.
  bool serving() const;

 private:
  friend class ActorRuntime;

  ActorRuntime& runtime_;
  std::string typeName_;
  ActorKey key_;
  bool retired_ = false;  // set once, when the runtime lets the activation go
};

// A typed reference to the actor of one key: A's public methods, each a call through the
// runtime. moonpool-annotate specializes it for every [[moonpool::actor]] (in the generated
// <stem>.moonpool.h); the primary template is never defined.
template <typename A>
class ActorRef;

}  // namespace moonpool::actors
