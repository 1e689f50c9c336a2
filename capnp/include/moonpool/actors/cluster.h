// Actors across processes (capnp/ layer, the actor runtime): a directory with leases, a
// gateway on every host, and the call path of generated ActorRef<A> methods.
//
//   // On the directory's process (one per cluster: a single-owner directory):
//   DirectoryService directory(providers, *host, {.hosts = {a, b, c}});
//   // On every actor host:
//   ActorRuntime runtime(providers);  runtime.add<Account>(...);
//   ActorCluster cluster(runtime, *host, {.self = a, .directory = d});
//   co_await runtime.ref<Account>("alice").deposit(5);   // wherever alice lives
//
// Placement. The directory maps (type, key) to a host and an epoch (a number that grows with
// every placement). An unplaced key is placed on the asking host when prefer-local is on
// and the asker is a host, otherwise by hash of (type, key) over the hosts, or at random;
// hosts its failure monitor (rpc::Peer) has failed are skipped.
//
// Leases: at most one activation per key at any time. A host serves a key only while it
// holds the key's lease for the placement's epoch: it claims it from the directory before
// the first activation and renews every renewInterval. Its lease ends `lease` after it SENT
// the claim or renewal (its own clock); the directory keeps the placement `lease + margin`
// after it ANSWERED (its clock), and re-places the key only after that, so a host that is
// partitioned away, paused or dead has stopped serving (the cluster drops its activations,
// without onDeactivate, when their lease ends; ActorState::write refuses once the lease is
// gone) before another host may activate the key. `margin` covers the clocks' rate error
// (the simulation's ±200 ppm) and scheduling; a restarted directory places nothing for
// `lease + margin` (leases granted by its previous incarnation may still run).
//
// Calls. A call looks its key up (cached), then runs in a local turn or goes to the host's
// gateway: one Cap'n Proto call carrying the key, its epoch, the call chain and the
// method's parameters, answered with its results (one message each way, as a service
// call). An answer "actor not here"
// (the host lost or never got the lease), a host the failure monitor has failed, or a call
// not sent, is routed again (the placement is looked up afresh) until the call's deadline,
// with a short backoff. Delivery as for services: at most once by default, so a call whose
// connection broke after it was sent fails with rpc::RpcError kConnectionLost (maybe
// delivered); [[moonpool::idempotent]] methods are sent again. Call chains travel with calls,
// so a self-call or A -> B -> A across processes is refused (kDeadlock) too; cycles between
// different chains are detected only within one process.
#pragma once

#include <capnp/any.h>
#include <capnp/capability.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/actors/actor.h"
#include "moonpool/actors/runtime.h"
#include "moonpool/actors/state.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"

namespace moonpool::actors {

// The names a Host serves the gateway and the directory under.
inline constexpr char kGatewayServiceName[] = "moonpool.actors.Gateway";
inline constexpr char kDirectoryServiceName[] = "moonpool.actors.Directory";
inline constexpr char kStateServiceName[] = "moonpool.actors.State";

enum class PlacementStrategy : std::uint8_t { kHash, kRandom };
enum class PreferLocal : std::uint8_t { kNo, kYes };
// kLeases is the design; kNone is the deliberately broken variant that the bank example's
// checks must catch: the directory re-places a key as soon as any host asks about it after
// its host looks failed, without waiting for the lease to run out, and hosts keep serving
// without a lease.
enum class Fencing : std::uint8_t { kLeases, kNone };

struct DirectoryOptions {
  std::vector<NetAddress> hosts;  // the gateways actors may be placed on
  PlacementStrategy strategy = PlacementStrategy::kHash;
  PreferLocal preferLocal = PreferLocal::kYes;
  Duration lease = std::chrono::seconds(2);
  Duration margin = std::chrono::milliseconds(200);
  std::size_t entriesMax = 1'000'000;  // placements kept; one more is refused
  Fencing fencing = Fencing::kLeases;
  rpc::PeerOptions peer;  // for the failure monitor's peers to the hosts
};

struct DirectoryStats {
  std::uint64_t lookups = 0;
  std::uint64_t placements = 0;    // keys placed (first time or again)
  std::uint64_t replacements = 0;  // placements of a key that had one before
  std::uint64_t renewals = 0;      // leases granted or renewed
  std::uint64_t refusals = 0;      // leases refused (another epoch, or expired)
};

// The directory of one cluster, served on `host` under kDirectoryServiceName. Constructed
// inside a Task of the owning process (its peers to the hosts run in that process's group);
// `host` outlives it. Placements live in memory: a restarted directory starts empty.
class DirectoryService {
 public:
  DirectoryService(Providers providers, rpc::Host& host, DirectoryOptions options);
  DirectoryService(const DirectoryService&) = delete;
  DirectoryService& operator=(const DirectoryService&) = delete;
  ~DirectoryService();

  const DirectoryStats& stats() const;
  // The placement of (type, key) now, if live: its host and epoch.
  std::optional<std::pair<NetAddress, std::uint64_t>> placementOf(std::string_view typeName,
                                                                  const ActorKey& key) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct ClusterOptions {
  NetAddress self;       // this host's address, where `host` listens
  NetAddress directory;  // the directory's host
  Duration renewInterval = std::chrono::milliseconds(500);
  // A routed call's deadline when the caller gives none (CallOptions come from `peer`).
  rpc::PeerOptions peer;
  Duration retryBackoff = std::chrono::milliseconds(50);  // between routing attempts
  std::size_t peersMax = 1'000;                           // hosts this one talks to
  Fencing fencing = Fencing::kLeases;
};

struct ClusterStats {
  std::uint64_t lookups = 0;      // asked the directory
  std::uint64_t leasesClaimed = 0;
  std::uint64_t leasesLost = 0;   // activations dropped because their lease ended
  std::uint64_t remoteCalls = 0;
  std::uint64_t rerouted = 0;     // attempts routed again (not here, host failed)
};

// One process's membership in the actor cluster: serves the gateway on `host`, keeps the
// leases of `runtime`'s activations, and routes its calls. Constructed inside a Task (its
// background task goes into the runtime's providers' group); `runtime` and `host` outlive
// it, and it must go before `runtime`.
class ActorCluster {
 public:
  ActorCluster(ActorRuntime& runtime, rpc::Host& host, ClusterOptions options);
  ActorCluster(const ActorCluster&) = delete;
  ActorCluster& operator=(const ActorCluster&) = delete;
  ~ActorCluster();

  // True while this host holds a live lease on (type, key).
  bool holds(std::string_view typeName, const ActorKey& key) const;
  const ClusterStats& stats() const;
  const ClusterOptions& options() const;

  struct Impl;

 private:
  friend class ActorCall;
  std::shared_ptr<Impl> impl_;
  JoinHandle<void> renewer_;
  JoinHandle<void> expirer_;
};

// Shared state. Every activation of a key must read and write the same state wherever it is
// placed, so a cluster keeps states on one owner (a process with a disk, often the
// directory's): serveStateStore() serves its StateStore there, and each host's runtime
// uses a RemoteStateStore to it. Etags and leases work as in state.h; a write whose answer
// is lost fails with kStateIo "maybe written" (it is never resent: a resend of an applied
// write would report a false conflict), and the next write then tells by its etag.
void serveStateStore(rpc::Host& host, StateStore& store);

class RemoteStateStore final : public StateStore {
 public:
  // Constructed inside a Task (its Peer's background task goes into providers' group).
  RemoteStateStore(Providers providers, NetAddress owner, rpc::PeerOptions options = {});
  ~RemoteStateStore() override;

  // implements StateStore
  Task<std::optional<StoredState>> read(std::string name) override;
  Task<std::uint64_t> write(std::string name, std::uint64_t expectedEtag,
                            std::string bytes) override;

 private:
  std::unique_ptr<rpc::Peer> peer_;
};

// The answer of one remote actor call: the method's Results struct.
class ActorReply {
 public:
  explicit ActorReply(::capnp::Response<::capnp::AnyPointer> response);

  // Reading may throw kj::Exception when the bytes do not hold `Results`.
  template <typename Results>
  typename Results::Reader results() const {
    return results_.getAs<Results>();
  }

 private:
  ::capnp::Response<::capnp::AnyPointer> response_;  // owns the bytes results_ reads
  ::capnp::AnyPointer::Reader results_;
};

// One call of a generated ActorRef<A> method (the generated code is its only user): the
// loop of routing attempts described above.
//
//   ActorCall call(runtime, ActorRef<A>::kTypeName, key, method, Delivery::kAtMostOnce);
//   for (;;) {
//     if (co_await call.next() == ActorCall::Route::kLocal) {
//       ...run it in a local turn; call.retryLocal(error) on ActorError...
//     } else {
//       auto params = call.params(words).initAs<schema::A::MParams>();  ...fill it...
//       std::optional<ActorReply> reply = co_await call.send();
//       if (!reply) continue;  // routed (or sent) again
//       ...read reply->results<schema::A::MResults>()...
//     }
//   }
class ActorCall {
 public:
  enum class Route : std::uint8_t {
    kLocal,   // run it in a turn here: this host holds the lease, or there is no cluster
    kRemote,  // send it (params(), send()) to the host that holds the key
  };

  // `typeName` lives as long as the call (the generated kTypeName); the key is copied.
  ActorCall(ActorRuntime& runtime, std::string_view typeName, const ActorKey& key,
            MethodInfo method, rpc::Delivery delivery);
  ActorCall(const ActorCall&) = delete;
  ActorCall& operator=(const ActorCall&) = delete;
  ~ActorCall();

  // Where the next attempt runs. Throws ActorError kUnavailable once the deadline has passed.
  Task<Route> next();

  // After next() returned kRemote: where the method's Params struct goes (initAs), in a
  // request whose first segment holds about `wordsHint` words of it.
  ::capnp::AnyPointer::Builder params(unsigned wordsHint);

  // Sends the request params() built; the answer, or nullopt when the call must be routed
  // again (not here, or not delivered) or sent again (idempotent, connection broke).
  Task<std::optional<ActorReply>> send();

  // After a local turn threw `error`: true when the call should be routed again (this host
  // lost the key's lease before the turn began), false to rethrow it.
  bool retryLocal(const ActorError& error);

  ActorRuntime& runtime() const { return runtime_; }
  const ActorKey& key() const { return key_; }
  std::uint64_t chain() const { return chain_; }

 private:
  bool shouldReroute(const Exception& error);
  Task<std::optional<bool>> routeOnce();

  ActorRuntime& runtime_;
  std::string_view typeName_;
  ActorKey key_;
  MethodInfo method_;
  rpc::Delivery delivery_;
  std::uint64_t chain_;
  TimePoint deadline_;
  std::uint32_t attempts_ = 0;
  std::uint64_t epoch_ = 0;  // of the placement the remote attempt goes to
  std::optional<rpc::Call> call_;
  std::optional<::capnp::Capability::Client> gateway_;
  std::optional<::capnp::Request<::capnp::AnyPointer, ::capnp::AnyPointer>> request_;
};

}  // namespace moonpool::actors
