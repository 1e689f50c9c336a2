// One host's part of the actor cluster: leases and the gateway (cluster.h); routed calls are
// in actor_call.cpp.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cluster_impl.h"
#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"
#include "wire_keys.h"

namespace moonpool::actors {

using internal::describe;

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

using GatewayContext =
    ::capnp::CallContext<wire::Gateway::CallParams, wire::Gateway::CallResults>;

// Words of a gateway answer besides the method's results (its CallResults struct, slack).
constexpr unsigned kAnswerWords = ::capnp::sizeInWords<wire::Gateway::CallResults>() + 2;

// The gateway's answer: the method's Results struct goes into its `results`.
class GatewayResults final : public internal::ActorResults {
 public:
  explicit GatewayResults(GatewayContext& context) : context_(context) {}

  // implements internal::ActorResults
  ::capnp::AnyPointer::Builder init(unsigned wordsHint) override {
    return context_.getResults(::capnp::MessageSize{wordsHint + kAnswerWords, 0}).getResults();
  }

 private:
  GatewayContext& context_;
};

// Claims the lease of `id` for `epoch` for a call that found this host without it, or
// refuses the call with kNotHere.
Task<void> claimOrRefuse(std::shared_ptr<ActorCluster::Impl> impl, ActorCluster::Impl::Id id,
                         std::uint64_t epoch) {
  bool held = false;
  std::string why = "the directory did not grant its lease";
  try {
    held = impl->attached && co_await impl->ensureLease(id, epoch);
  } catch (const Exception& error) {
    why = std::string("the directory is unreachable: ") + error.what();
  }
  if (held) co_return;
  throw ActorError(ActorFailure::kNotHere, describe(id) + " (epoch " + std::to_string(epoch) +
                                               ") is not served by " +
                                               impl->options.self.toString() + ": " + why);
}

// One remote actor call: the lease (held already, in the common case), then the method's
// turn through the type's generated dispatch.
Task<void> serveCall(std::shared_ptr<ActorCluster::Impl> impl, GatewayContext context) {
  auto params = context.getParams();
  ::capnp::Text::Reader typeText = params.getType();
  const std::string_view type(typeText.begin(), typeText.size());
  ActorKey key = internal::fromWire(params.getKey());
  const std::uint64_t epoch = params.getEpoch();
  internal::ActorDispatch dispatch = impl->runtime.dispatcher(type);  // kUnknownType
  if (!impl->holdsEpoch(internal::ActorIdView(type, key), epoch)) {
    co_await claimOrRefuse(impl, ActorCluster::Impl::Id(type, key), epoch);
  }
  GatewayResults results(context);
  co_await dispatch(impl->runtime, std::move(key), params.getChain(), params.getMethod(),
                    params.getParams(), results);
}

class GatewayServer final : public wire::Gateway::Server {
 public:
  GatewayServer(std::shared_ptr<ActorCluster::Impl> impl, TaskGroup& calls)
      : impl_(std::move(impl)), calls_(calls) {}

 protected:
  // implements wire::Gateway::Server
  // Not cancellable by the caller (no allowCancellation): the call's turn runs in this
  // task (ActorRuntime::invokeInTask) and runs to completion; a caller that gives up leaves
  // it running, as a local caller leaves an abandoned turn. Killing the process (its group)
  // or destroying the host still cancels it.
  kj::Promise<void> call(CallContext context) override {
    return toPromise(serveCall(impl_, context), "actors.gateway", &calls_);
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
  return impl_->holds(internal::ActorIdView(typeName, key));
}
const ClusterStats& ActorCluster::stats() const { return impl_->stats; }
const ClusterOptions& ActorCluster::options() const { return impl_->options; }

}  // namespace moonpool::actors
