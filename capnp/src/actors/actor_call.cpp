// Routed calls of generated ActorRef<A> methods: local turns or the key's host's gateway
// (cluster.h, ActorCall).
#include <string>
#include <utility>

#include "cluster_impl.h"
#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"
#include "wire_keys.h"

namespace moonpool::actors {

using internal::describe;

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
