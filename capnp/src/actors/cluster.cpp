// One host's part of the actor cluster: leases, the gateway, and routed calls (cluster.h).
#include "moonpool/actors/cluster.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"
#include "wire_keys.h"

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

namespace {

std::string describe(const ActorCluster::Impl::Id& id) {
  return id.first + " " + id.second.toString();
}

}  // namespace

Task<ActorCluster::Impl::Placement> ActorCluster::Impl::placementFor(Id id) {
  auto cached = placements.find(id);
  if (cached != placements.end()) co_return cached->second;
  ++stats.lookups;
  rpc::Call call(*directory, kDirectoryServiceName, "lookup", rpc::Delivery::kAtLeastOnce, {});
  try {
    for (;;) {
      auto target = (co_await call.target()).castAs<wire::Directory>();
      auto request = target.lookupRequest();
      request.setType(id.first);
      internal::toWire(id.second, request.initKey());
      request.setRequester(options.self.toString());
      auto response = co_await call.reply(request.send());
      if (!response.has_value()) continue;
      IoResult<NetAddress> host = NetAddress::parse(response->getHost().cStr());
      if (!host.ok()) {
        throw ActorError(ActorFailure::kUnavailable,
                         "the directory placed " + describe(id) + " on an unreadable host: " +
                             host.error().toString());
      }
      if (placements.size() >= kPlacementsCachedMax) placements.clear();
      Placement placement{host.value(), response->getEpoch()};
      placements[id] = placement;
      co_return placement;
    }
  } catch (const kj::Exception& error) {
    throw fromKj(error);
  }
}

// Claims or renews `wanted` at the directory. *sentAt: when the answered request was sent
// (a lease runs from there, on this host's clock).
Task<std::vector<bool>> ActorCluster::Impl::renew(
    std::vector<std::pair<Id, std::uint64_t>> wanted, TimePoint* sentAt, Duration* length) {
  rpc::Call call(*directory, kDirectoryServiceName, "renew", rpc::Delivery::kAtLeastOnce, {});
  try {
    for (;;) {
      auto target = (co_await call.target()).castAs<wire::Directory>();
      auto request = target.renewRequest();
      request.setHost(options.self.toString());
      auto list = request.initLeases(static_cast<unsigned>(wanted.size()));
      for (unsigned i = 0; i < wanted.size(); ++i) {
        list[i].setType(wanted[i].first.first);
        internal::toWire(wanted[i].first.second, list[i].initKey());
        list[i].setEpoch(wanted[i].second);
      }
      *sentAt = now();
      auto response = co_await call.reply(request.send());
      if (!response.has_value()) continue;
      *length = std::chrono::milliseconds(response->getLeaseMs());
      auto granted = response->getGranted();
      MOONPOOL_CHECK_EQ(granted.size(), wanted.size(), "the directory answered another list");
      std::vector<bool> out;
      for (bool one : granted) out.push_back(one);
      co_return out;
    }
  } catch (const kj::Exception& error) {
    throw fromKj(error);
  }
}

Task<bool> ActorCluster::Impl::ensureLease(Id id, std::uint64_t epoch) {
  auto found = leases.find(id);
  if (found != leases.end() && found->second.epoch == epoch && holds(id)) co_return true;
  // An old epoch, or a lease that lapsed (the expirer has not run yet, e.g. the host was
  // paused): its activation may have been superseded meanwhile, so it must not go on.
  if (found != leases.end()) dropLease(id);
  if (options.fencing == Fencing::kNone) {
    leases[id] = Lease{epoch, TimePoint::max()};
    co_return true;
  }
  TimePoint sentAt{};
  Duration length{};
  std::vector<bool> granted = co_await renew({{id, epoch}}, &sentAt, &length);
  if (!granted.front() || !attached) co_return false;
  leases[id] = Lease{epoch, sentAt + length};
  ++stats.leasesClaimed;
  co_return true;
}

Task<void> ActorCluster::Impl::renewForever() {
  for (;;) {
    co_await runtime.providers().time().sleep(options.renewInterval);
    if (leases.empty() || options.fencing == Fencing::kNone) continue;
    std::vector<std::pair<Id, std::uint64_t>> wanted;
    for (const auto& [id, lease] : leases) wanted.emplace_back(id, lease.epoch);
    TimePoint sentAt{};
    Duration length{};
    std::vector<bool> granted;
    try {
      granted = co_await renew(wanted, &sentAt, &length);
    } catch (const Exception&) {
      continue;  // the directory is unreachable: the leases age, and end on their own
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      auto found = leases.find(wanted[i].first);
      if (found == leases.end() || found->second.epoch != wanted[i].second) continue;
      // A lease that had lapsed before this renewal was sent left a gap in which another
      // host may have served the key: it is not revived, its activation goes.
      if (granted[i] && found->second.until > sentAt) {
        found->second.until = std::max(found->second.until, sentAt + length);
      } else {
        dropLease(wanted[i].first);
      }
    }
  }
}

// Drops each activation when its lease ends (holds() refuses calls from that instant on;
// this lets the activation go too).
Task<void> ActorCluster::Impl::expireForever() {
  for (;;) {
    TimePoint wake = now() + options.renewInterval;
    for (const auto& [id, lease] : leases) wake = std::min(wake, lease.until);
    co_await runtime.providers().time().sleepUntil(wake);
    std::vector<Id> ended;
    for (const auto& [id, lease] : leases) {
      if (lease.until <= now()) ended.push_back(id);
    }
    for (const Id& id : ended) dropLease(id);
  }
}

namespace {

using ActorContextParams =
    ::capnp::CallContext<wire::Gateway::ActorParams, wire::Gateway::ActorResults>;

Task<void> serveActor(std::shared_ptr<ActorCluster::Impl> impl, ActorContextParams context) {
  auto params = context.getParams();
  ActorCluster::Impl::Id id(params.getType().cStr(), internal::fromWire(params.getKey()));
  const std::uint64_t epoch = params.getEpoch();
  const std::uint64_t chain = params.getChain();
  bool held = false;
  std::string why = "the directory did not grant its lease";
  try {
    held = impl->attached && co_await impl->ensureLease(id, epoch);
  } catch (const Exception& error) {
    why = std::string("the directory is unreachable: ") + error.what();
  }
  if (!held) {
    throw ActorError(ActorFailure::kNotHere, describe(id) + " (epoch " + std::to_string(epoch) +
                                                 ") is not served by " +
                                                 impl->options.self.toString() + ": " + why);
  }
  context.getResults().setActor(impl->runtime.serve(id.first, id.second, chain));
}

class GatewayServer final : public wire::Gateway::Server {
 public:
  GatewayServer(std::shared_ptr<ActorCluster::Impl> impl, TaskGroup& calls)
      : impl_(std::move(impl)), calls_(calls) {}

 protected:
  // implements wire::Gateway::Server
  kj::Promise<void> actor(ActorContext context) override {
    context.allowCancellation();
    return toPromise(serveActor(impl_, context), "actors.gateway", &calls_);
  }

 private:
  std::shared_ptr<ActorCluster::Impl> impl_;
  TaskGroup& calls_;
};

}  // namespace

ActorCluster::ActorCluster(ActorRuntime& runtime, rpc::Host& host, ClusterOptions options)
    : impl_(std::make_shared<Impl>(runtime, std::move(options))) {
  MOONPOOL_CHECK(runtime.cluster() == nullptr, "a runtime joined two clusters");
  MOONPOOL_CHECK(impl_->options.renewInterval > Duration::zero(), "renewInterval must be > 0");
  impl_->directory =
      std::make_unique<rpc::Peer>(runtime.providers(), impl_->options.directory,
                                  impl_->options.peer);
  host.add(kGatewayServiceName, kj::heap<GatewayServer>(impl_, host.calls()),
           rpc::Access::kPublic);
  runtime.setCluster(this);
  TaskProvider& tasks = runtime.providers().tasks();
  renewer_ = tasks.spawn("actor lease renewer", impl_->renewForever());
  expirer_ = tasks.spawn("actor lease expirer", impl_->expireForever());
}

ActorCluster::~ActorCluster() {
  renewer_.cancel();
  expirer_.cancel();
  impl_->attached = false;
  impl_->runtime.setCluster(nullptr);
  impl_->peers.clear();
  impl_->directory.reset();
}

bool ActorCluster::holds(std::string_view typeName, const ActorKey& key) const {
  return impl_->holds(Impl::Id(typeName, key));
}
const ClusterStats& ActorCluster::stats() const { return impl_->stats; }
const ClusterOptions& ActorCluster::options() const { return impl_->options; }

ActorCall::ActorCall(ActorRuntime& runtime, std::string_view typeName, ActorKey key,
                     MethodInfo method, rpc::Delivery delivery)
    : runtime_(runtime),
      typeName_(typeName),
      key_(std::move(key)),
      method_(method),
      delivery_(delivery),
      chain_(runtime.callerChain()) {
  ActorCluster* cluster = runtime.cluster();
  // Without a cluster every attempt is local and the deadline is never consulted.
  deadline_ = runtime.providers().time().now() +
              (cluster != nullptr ? cluster->options().peer.callTimeout : Duration::zero());
}

ActorCall::~ActorCall() = default;

Task<std::optional<::capnp::Capability::Client>> ActorCall::next() {
  ActorCluster* cluster = runtime_.cluster();
  if (cluster == nullptr) co_return std::nullopt;
  ActorCluster::Impl& impl = *cluster->impl_;
  ActorCluster::Impl::Id id(typeName_, key_);
  TimeProvider& time = runtime_.providers().time();
  for (;;) {
    if (attempts_++ > 0) {
      ++impl.stats.rerouted;
      if (time.now() + impl.options.retryBackoff >= deadline_) {
        throw ActorError(ActorFailure::kUnavailable,
                         std::string(method_.name) + " on " + describe(id) + ": no host " +
                             "served it before the call's deadline (" +
                             std::to_string(attempts_ - 1) + " attempts)");
      }
      co_await time.sleep(impl.options.retryBackoff);
    }
    // Every attempt: the calling turn's activation may have lost its key while this call
    // waited for the directory, and must not reach the key's next activation.
    runtime_.checkCallerServing(method_.name, typeName_, key_);
    std::optional<ActorCluster::Impl::Placement> where;
    bool local = false;
    try {
      where = co_await impl.placementFor(id);
      local = where->host == impl.options.self && co_await impl.ensureLease(id, where->epoch);
    } catch (const rpc::RpcError& error) {
      if (error.maybeDelivered() && error.failure() != rpc::RpcFailure::kTimedOut) throw;
      // The directory is unreachable for now: try again until the deadline.
    }
    // Again after those awaits: the caller's lease may have ended (and this host may have
    // claimed the key anew) meanwhile.
    runtime_.checkCallerServing(method_.name, typeName_, key_);
    if (local) co_return std::nullopt;
    if (!where.has_value() || where->host == impl.options.self) {
      impl.forget(id);
      continue;
    }
    rpc::Peer& peer = impl.peerFor(where->host);
    call_.reset();
    call_.emplace(peer, kGatewayServiceName, method_.name, delivery_,
                  rpc::CallOptions{.timeout = std::nullopt, .deadline = deadline_});
    std::optional<::capnp::Capability::Client> gatewayCap;
    bool reroute = false;
    try {
      gatewayCap.emplace(co_await call_->target());
    } catch (const Exception& error) {
      reroute = shouldReroute(error);
      if (!reroute) throw;
    }
    if (reroute) continue;
    runtime_.checkCallerServing(method_.name, typeName_, key_);
    auto request = gatewayCap->castAs<wire::Gateway>().actorRequest();
    request.setType(typeName_);
    internal::toWire(key_, request.initKey());
    request.setEpoch(where->epoch);
    request.setChain(chain_);
    ++impl.stats.remoteCalls;
    co_return request.send().getActor();
  }
}

bool ActorCall::shouldReroute(const Exception& error) {
  ActorCluster* cluster = runtime_.cluster();
  if (cluster == nullptr) return false;
  bool notHere = error.description().find(actorFailureName(ActorFailure::kNotHere)) !=
                 std::string::npos;
  const auto* rpcError = dynamic_cast<const rpc::RpcError*>(&error);
  bool unsent = rpcError != nullptr && !rpcError->maybeDelivered();
  if (!notHere && !unsent) return false;
  cluster->impl_->forget(ActorCluster::Impl::Id(typeName_, key_));
  return true;
}

bool ActorCall::retryLocal(const ActorError& error) {
  if (error.failure() != ActorFailure::kNotHere || runtime_.cluster() == nullptr) return false;
  runtime_.cluster()->impl_->forget(ActorCluster::Impl::Id(typeName_, key_));
  return true;
}

}  // namespace moonpool::actors
