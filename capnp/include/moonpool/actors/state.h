// Durable actor state (capnp/ layer, the actor runtime): ActorState<T> for a
// [[moonpool::message]] T, kept in a StateStore with optimistic concurrency (etags).
//
//   class [[moonpool::actor]] Account {
//    public:
//     explicit Account(ActorContext& context) : state_(context) {}
//     Task<void> onActivate() { co_await state_.load(); }   // the last successful write
//     Task<int64_t> deposit(int64_t amount) {
//       state_.value().balance += amount;
//       co_await state_.write();                            // durable when it returns
//       co_return state_.value().balance;
//     }
//    private:
//     ActorState<Balance> state_;
//   };
//
// Etags. Every stored state has an etag, bumped by each successful write (0: never
// written). write() succeeds only if the stored etag is still the one this ActorState last
// loaded or wrote; otherwise someone else wrote since (a second activation of the key, a
// wiped disk) and it fails with ActorError kStateConflict, leaving the stored state alone.
// The in-memory value is then stale: the usual answer is to let the activation go (throw)
// and start again from load(). In a cluster (cluster.h), write() also refuses with kNotHere
// once this host no longer holds the key's lease.
//
// StorageStateStore writes one file per state through a StorageProvider: the record goes
// to "<file>.tmp", is synced, read back and compared (a disk may acknowledge a write it
// lost or put elsewhere), and is renamed over the file (a rename is durable when it
// returns). Crash windows, per write():
//   - before the rename returns (writing or syncing the temporary file, or the rename
//     itself in flight): the write is lost, the previous state survives, and write() never
//     returned success, so nothing acknowledged is lost. A torn temporary file is never
//     read.
//   - after the rename returns: the new state is durable, even if the crash comes before
//     write() resumes its caller (then the caller never saw the acknowledgement: the state
//     is newer than what it was told, an at-most-once "maybe" for the caller to handle).
//   - a wiped disk loses every state: loads see none (etag 0), and an activation holding
//     an older etag gets kStateConflict on its next write instead of silently recreating
//     the state.
//   - a corrupted state file (bit rot, a bad sector that reads as garbage) fails its CRC.
//     Every write replaces the file and then, the same way, its copy "<file>.copy", so a
//     read that finds the file corrupt reads the copy: the same state, or (after a crash
//     between the two renames) the state before a write that was never acknowledged. Only
//     when both are corrupt (or the copy is missing) does load() throw kStateCorrupt, and
//     the activation fails (kActivationFailed) rather than serve a wrong state. A write
//     costs two synced files.
// Fencing. In a cluster, an activation whose lease ended may still have a write in flight
// (sent while it held the lease, delayed by the network). So that such a late write cannot
// land after the next activation of the key has read the state (and overwrite what that one
// builds on), load() writes the state back at once: the etag moves on, and the late write,
// which expects the older etag, is refused as a conflict. An activation costs one write.
//
// Writes through one store are serialized (check and replace are one step); two stores over
// one disk are a bug. The store is one process's; a cluster shares state by giving every
// activation of a key the same store (the directory's owner), not by sharing disks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "moonpool/actors/actor.h"
#include "moonpool/check.h"
#include "moonpool/storage.h"
#include "moonpool/sync.h"
#include "moonpool/task.h"

namespace moonpool::actors {

// One stored state: its serialized bytes and its etag (>= 1).
struct StoredState {
  std::uint64_t etag = 0;
  std::string bytes;
};

// Where ActorStates live. Errors are ActorErrors: kStateConflict, kStateCorrupt, kStateIo.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // The state stored under `name`, or nullopt when there is none.
  virtual Task<std::optional<StoredState>> read(std::string name) = 0;
  // Replaces the state under `name` if its etag is `expectedEtag` (0: none stored) and
  // returns the new etag; otherwise throws kStateConflict and changes nothing.
  virtual Task<std::uint64_t> write(std::string name, std::uint64_t expectedEtag,
                                    std::string bytes) = 0;
};

class StorageStateStore final : public StateStore {
 public:
  // The largest state one write takes (bytes after serialization).
  static constexpr std::size_t kStateBytesMax = std::size_t{16} << 20;

  // `storage` outlives the store.
  explicit StorageStateStore(StorageProvider& storage) : storage_(storage) {}

  // The file a state is kept in: "actor-state-" then `name` with every byte outside
  // [A-Za-z0-9_.-] written as %XX.
  static std::string fileName(std::string_view name);

  // implements StateStore
  Task<std::optional<StoredState>> read(std::string name) override;
  Task<std::uint64_t> write(std::string name, std::uint64_t expectedEtag,
                            std::string bytes) override;

 private:
  // The copy of every state file, at "<file>.copy".
  static constexpr char kCopySuffix[] = ".copy";

  Task<std::optional<StoredState>> readFile(const std::string& name);
  Task<std::optional<StoredState>> readPath(const std::string& path);
  Task<void> replaceFile(const std::string& path, const std::string& record);

  StorageProvider& storage_;
  Mutex writes_;
};

// Serialization of a [[moonpool::message]] T: moonpool-annotate specializes it for every
// message of a header that declares an actor (actor_emitter.h). decode() throws ActorError
// kStateCorrupt on bytes that are not a T.
template <typename T>
struct MessageCodec;

namespace internal {

// The type-independent part of ActorState: name, store, etag.
class StateSlot {
 public:
  StateSlot(ActorContext& context, std::string_view stateName);
  const std::string& name() const { return name_; }
  std::uint64_t etag() const { return etag_; }
  bool loaded() const { return loaded_; }

 protected:
  // True when loads must fence: the runtime is in a cluster (cluster.h).
  bool fencing() const;
  Task<std::optional<std::string>> loadBytes();
  Task<void> writeBytes(std::string bytes);

 private:
  ActorContext& context_;
  StateStore& store_;
  std::string name_;  // "<type>/<key>/<state name>"
  std::uint64_t etag_ = 0;
  bool loaded_ = false;
};

}  // namespace internal

template <typename T>
class ActorState final : public internal::StateSlot {
 public:
  // The state `stateName` of the context's actor, in the runtime's StateStore (a runtime
  // without one is a bug, checked). Holds T{} until load().
  explicit ActorState(ActorContext& context, std::string_view stateName = "state")
      : StateSlot(context, stateName) {}

  // Reads the last successfully written state (T{} with etag 0 when there is none). In a
  // cluster it then writes it back unchanged (a fencing write; see "Fencing" above), and
  // throws kStateConflict if a write from elsewhere landed in between.
  Task<void> load() {
    std::optional<std::string> bytes = co_await loadBytes();
    value_ = T{};
    if (bytes.has_value()) MessageCodec<T>::decode(*bytes, value_);
    if (fencing()) co_await writeBytes(MessageCodec<T>::encode(value_));
  }
  // Writes value() if nobody wrote since this state's last load() or write(); throws
  // kStateConflict otherwise (see the header comment). Writing before load() is a bug.
  Task<void> write() {
    MOONPOOL_CHECK(loaded(), "ActorState '" + name() + "' written before load()");
    co_await writeBytes(MessageCodec<T>::encode(value_));
  }

  T& value() { return value_; }
  const T& value() const { return value_; }

 private:
  T value_{};
};

}  // namespace moonpool::actors
