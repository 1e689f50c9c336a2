// The state of one host's membership in the actor cluster, shared by its sources: leases and
// the gateway (cluster.cpp), routed calls (actor_call.cpp). Private to capnp/src/actors.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/actors/cluster.h"

namespace moonpool::actors {

struct ActorCluster::Impl {
  using Id = std::pair<std::string, ActorKey>;
  struct Lease {
    std::uint64_t epoch = 0;
    TimePoint until{};
  };
  struct Placement {
    NetAddress host;
    std::uint64_t epoch = 0;
  };
  // Placements remembered for routing; the cache is emptied when it reaches this.
  static constexpr std::size_t kPlacementsCachedMax = 100'000;

  Impl(ActorRuntime& r, ClusterOptions o) : runtime(r), options(std::move(o)) {}

  ActorRuntime& runtime;
  ClusterOptions options;
  ClusterStats stats;
  std::unique_ptr<rpc::Peer> directory;
  std::map<NetAddress, std::unique_ptr<rpc::Peer>> peers;
  // Ordered (renewals and expiries walk them in key order); looked up by ActorIdView.
  std::map<Id, Lease, internal::ActorIdLess> leases;
  std::map<Id, Placement, internal::ActorIdLess> placements;
  bool attached = true;

  TimePoint now() const { return runtime.providers().time().now(); }

  template <typename AnyId>
  bool holds(const AnyId& id) const {
    if (!attached) return false;
    auto found = leases.find(id);
    if (options.fencing == Fencing::kNone) return found != leases.end();
    return found != leases.end() && found->second.until > now();
  }

  // True when this host holds a live lease on `id` for `epoch` (a call may run here at once).
  bool holdsEpoch(const internal::ActorIdView& id, std::uint64_t epoch) const {
    auto found = leases.find(id);
    return found != leases.end() && found->second.epoch == epoch && holds(id);
  }

  // The cached placement of `id`, if any (placementFor asks the directory otherwise).
  const Placement* cachedPlacement(const internal::ActorIdView& id) const {
    auto found = placements.find(id);
    return found == placements.end() ? nullptr : &found->second;
  }

  rpc::Peer& peerFor(const NetAddress& host) {
    auto found = peers.find(host);
    if (found != peers.end()) return *found->second;
    if (peers.size() >= options.peersMax) {
      throw ActorError(ActorFailure::kUnavailable,
                       "this host already talks to peersMax (" +
                           std::to_string(options.peersMax) + ") hosts");
    }
    auto peer = std::make_unique<rpc::Peer>(runtime.providers(), host, options.peer);
    return *peers.emplace(host, std::move(peer)).first->second;
  }

  void forget(const internal::ActorIdView& id) {
    auto found = placements.find(id);
    if (found != placements.end()) placements.erase(found);
  }

  void dropLease(const Id& id) {
    leases.erase(id);
    placements.erase(id);
    if (runtime.drop(id.first, id.second)) ++stats.leasesLost;
  }

  Task<Placement> placementFor(Id id);
  Task<std::vector<bool>> renew(std::vector<std::pair<Id, std::uint64_t>> wanted,
                                TimePoint* sentAt, Duration* length);
  Task<bool> ensureLease(Id id, std::uint64_t epoch);
  Task<void> renewForever();
  Task<void> expireForever();
};

namespace internal {

inline std::string describe(const ActorCluster::Impl::Id& id) {
  return id.first + " " + id.second.toString();
}

}  // namespace internal

}  // namespace moonpool::actors
