// Routed calls of generated ActorRef<A> methods: local turns or the key's host's gateway
// (cluster.h, ActorCall).
#include <algorithm>
#include <string>
#include <utility>

#include "cluster_impl.h"
#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"
#include "wire_keys.h"

namespace moonpool::actors {

using internal::describe;

namespace {

// First-segment words of a gateway request besides the method's parameters: its CallParams
// struct, its Key struct, and slack; the type name and a text key are added to it.
constexpr unsigned kCallWords = ::capnp::sizeInWords<wire::Gateway::CallParams>() +
                                ::capnp::sizeInWords<wire::Key>() + 2;
static_assert(kCallWords < 32, "a gateway request's header is a few words");

unsigned textWords(std::string_view text) {
  return static_cast<unsigned>(text.size() / sizeof(::capnp::word) + 1);
}

}  // namespace

ActorReply::ActorReply(::capnp::Response<::capnp::AnyPointer> response)
    : response_(kj::mv(response)),
      results_(response_.getAs<wire::Gateway::CallResults>().getResults()) {}

ActorCall::ActorCall(ActorRuntime& runtime, std::string_view typeName, const ActorKey& key,
                     MethodInfo method, rpc::Delivery delivery)
    : runtime_(runtime),
      typeName_(typeName),
      key_(key),
      method_(method),
      delivery_(delivery),
      chain_(runtime.callerChain()) {
  ActorCluster* cluster = runtime.cluster();
  // Without a cluster every attempt is local and the deadline is never consulted.
  deadline_ = runtime.providers().time().now() +
              (cluster != nullptr ? cluster->options().peer.callTimeout : Duration::zero());
}

ActorCall::~ActorCall() = default;

Task<ActorCall::Route> ActorCall::next() {
  TimeProvider& time = runtime_.providers().time();
  for (;;) {
    ActorCluster* cluster = runtime_.cluster();
    if (cluster == nullptr) co_return Route::kLocal;
    if (attempts_++ > 0) {
      ActorCluster::Impl& impl = *cluster->impl_;
      ++impl.stats.rerouted;
      if (time.now() + impl.options.retryBackoff >= deadline_) {
        throw ActorError(ActorFailure::kUnavailable,
                         std::string(method_.name) + " on " +
                             describe(ActorCluster::Impl::Id(typeName_, key_)) + ": no host " +
                             "served it before the call's deadline (" +
                             std::to_string(attempts_ - 1) + " attempts)");
      }
      co_await time.sleep(impl.options.retryBackoff);
    }
    std::optional<bool> local = co_await routeOnce();
    if (!local.has_value()) continue;
    co_return *local ? Route::kLocal : Route::kRemote;
  }
}

// One routing attempt: true for a local turn, false when gateway_ is the key's host's
// gateway, nullopt to try again.
Task<std::optional<bool>> ActorCall::routeOnce() {
  ActorCluster* cluster = runtime_.cluster();
  if (cluster == nullptr) co_return true;  // left the cluster while this call waited
  ActorCluster::Impl& impl = *cluster->impl_;
  const internal::ActorIdView id(typeName_, key_);
  // Every attempt: the calling turn's activation may have lost its key while this call
  // waited for the directory, and must not reach the key's next activation.
  runtime_.checkCallerServing(method_.name, typeName_, key_);
  std::optional<ActorCluster::Impl::Placement> where;
  bool local = false;
  try {
    const ActorCluster::Impl::Placement* cached = impl.cachedPlacement(id);
    where = cached != nullptr ? *cached
                              : co_await impl.placementFor(ActorCluster::Impl::Id(id));
    if (where->host == impl.options.self) {
      local = impl.holdsEpoch(id, where->epoch) ||
              co_await impl.ensureLease(ActorCluster::Impl::Id(id), where->epoch);
    }
  } catch (const rpc::RpcError& error) {
    if (error.maybeDelivered() && error.failure() != rpc::RpcFailure::kTimedOut) throw;
    // The directory is unreachable for now: try again until the deadline.
  }
  // Again after those awaits: the caller's lease may have ended (and this host may have
  // claimed the key anew) meanwhile.
  runtime_.checkCallerServing(method_.name, typeName_, key_);
  if (local) co_return true;
  if (!where.has_value() || where->host == impl.options.self) {
    impl.forget(id);
    co_return std::nullopt;
  }
  rpc::Peer& peer = impl.peerFor(where->host);
  request_.reset();
  gateway_.reset();
  call_.reset();
  call_.emplace(peer, kGatewayServiceName, method_.name, delivery_,
                rpc::CallOptions{.timeout = std::nullopt, .deadline = deadline_});
  bool reroute = false;
  try {
    gateway_.emplace(co_await call_->target());
  } catch (const Exception& error) {
    reroute = shouldReroute(error);
    if (!reroute) throw;
  }
  if (reroute) co_return std::nullopt;
  runtime_.checkCallerServing(method_.name, typeName_, key_);
  epoch_ = where->epoch;
  co_return false;
}

::capnp::AnyPointer::Builder ActorCall::params(unsigned wordsHint) {
  MOONPOOL_CHECK(gateway_.has_value(), "ActorCall::params() without a remote route");
  const unsigned words = kCallWords + textWords(typeName_) +
                         (key_.isNumber() ? 0 : textWords(key_.text())) + wordsHint;
  request_.emplace(gateway_->typelessRequest(::capnp::typeId<wire::Gateway>(), 0,
                                             ::capnp::MessageSize{words, 0}));
  auto call = request_->initAs<wire::Gateway::CallParams>();
  auto type = call.initType(static_cast<unsigned>(typeName_.size()));
  std::copy(typeName_.begin(), typeName_.end(), type.begin());
  internal::toWire(key_, call.initKey());
  call.setEpoch(epoch_);
  call.setChain(chain_);
  call.setMethod(method_.ordinal);
  return call.getParams();
}

Task<std::optional<ActorReply>> ActorCall::send() {
  MOONPOOL_CHECK(request_.has_value() && call_.has_value(), "ActorCall::send() before params()");
  if (ActorCluster* cluster = runtime_.cluster()) ++cluster->impl_->stats.remoteCalls;
  kj::Promise<::capnp::Response<::capnp::AnyPointer>> sent = request_->send();
  request_.reset();
  std::optional<::capnp::Response<::capnp::AnyPointer>> response;
  bool reroute = false;
  try {
    response = co_await call_->reply<::capnp::AnyPointer>(kj::mv(sent));
  } catch (const Exception& error) {
    reroute = shouldReroute(error);
    if (!reroute) throw;
  }
  if (reroute || !response.has_value()) co_return std::nullopt;
  try {
    co_return ActorReply(std::move(*response));
  } catch (const kj::Exception& error) {
    throw fromKj(error);
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
  cluster->impl_->forget(internal::ActorIdView(typeName_, key_));
  return true;
}

bool ActorCall::retryLocal(const ActorError& error) {
  if (error.failure() != ActorFailure::kNotHere || runtime_.cluster() == nullptr) return false;
  runtime_.cluster()->impl_->forget(internal::ActorIdView(typeName_, key_));
  return true;
}

}  // namespace moonpool::actors
