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
  std::map<Id, Lease> leases;
  std::map<Id, Placement> placements;
  bool attached = true;

  TimePoint now() const { return runtime.providers().time().now(); }

  bool holds(const Id& id) const {
    if (!attached) return false;
    if (options.fencing == Fencing::kNone) return leases.count(id) != 0;
    auto found = leases.find(id);
    return found != leases.end() && found->second.until > now();
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

  void forget(const Id& id) { placements.erase(id); }

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
