// A StateStore served to the cluster, and its remote client (cluster.h "Shared state").
#include <capnp/capability.h>

#include <string>

#include "moonpool/actors/cluster.h"
#include "moonpool/kj/bridge.h"
#include "wire.capnp.h"

namespace moonpool::actors {
namespace {

using ReadContext =
    ::capnp::CallContext<wire::StateService::ReadParams, wire::StateService::ReadResults>;
using WriteContext =
    ::capnp::CallContext<wire::StateService::WriteParams, wire::StateService::WriteResults>;

std::string textOf(::capnp::Data::Reader bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

::capnp::Data::Reader dataOf(const std::string& bytes) {
  return ::capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

Task<void> serveRead(StateStore& store, ReadContext context) {
  std::optional<StoredState> state = co_await store.read(context.getParams().getName().cStr());
  auto results = context.getResults();
  results.setFound(state.has_value());
  if (!state.has_value()) co_return;
  results.setEtag(state->etag);
  results.setBytes(dataOf(state->bytes));
}

Task<void> serveWrite(StateStore& store, WriteContext context) {
  auto params = context.getParams();
  auto results = context.getResults();
  try {
    results.setEtag(co_await store.write(params.getName().cStr(), params.getExpectedEtag(),
                                         textOf(params.getBytes())));
  } catch (const ActorError& error) {
    if (error.failure() != ActorFailure::kStateConflict) throw;
    results.setConflict(true);
  }
}

class StateServer final : public wire::StateService::Server {
 public:
  StateServer(StateStore& store, TaskGroup& calls) : store_(store), calls_(calls) {}

 protected:
  // implements wire::StateService::Server
  kj::Promise<void> read(ReadContext context) override {
    context.allowCancellation();
    return toPromise(serveRead(store_, context), "actors.state.read", &calls_);
  }
  kj::Promise<void> write(WriteContext context) override {
    context.allowCancellation();
    return toPromise(serveWrite(store_, context), "actors.state.write", &calls_);
  }

 private:
  StateStore& store_;
  TaskGroup& calls_;
};

}  // namespace

void serveStateStore(rpc::Host& host, StateStore& store) {
  host.add(kStateServiceName, kj::heap<StateServer>(store, host.calls()), rpc::Access::kPublic);
}

RemoteStateStore::RemoteStateStore(Providers providers, NetAddress owner,
                                   rpc::PeerOptions options)
    : peer_(std::make_unique<rpc::Peer>(providers, owner, std::move(options))) {}

RemoteStateStore::~RemoteStateStore() = default;

Task<std::optional<StoredState>> RemoteStateStore::read(std::string name) {
  rpc::Call call(*peer_, kStateServiceName, "read", rpc::Delivery::kAtLeastOnce, {});
  try {
    for (;;) {
      auto request = (co_await call.target()).castAs<wire::StateService>().readRequest();
      request.setName(name);
      auto response = co_await call.reply(request.send());
      if (!response.has_value()) continue;
      if (!response->getFound()) co_return std::nullopt;
      co_return StoredState{response->getEtag(), textOf(response->getBytes())};
    }
  } catch (const kj::Exception& error) {
    throw ActorError(ActorFailure::kStateIo, "reading state '" + name + "': " +
                                                 fromKj(error).description());
  } catch (const Exception& error) {  // the client layer's, or the owner's store's
    throw ActorError(ActorFailure::kStateIo,
                     "reading state '" + name + "': " + error.description());
  }
}

Task<std::uint64_t> RemoteStateStore::write(std::string name, std::uint64_t expectedEtag,
                                            std::string bytes) {
  rpc::Call call(*peer_, kStateServiceName, "write", rpc::Delivery::kAtMostOnce, {});
  std::optional<std::string> failure;
  try {
    auto request = (co_await call.target()).castAs<wire::StateService>().writeRequest();
    request.setName(name);
    request.setExpectedEtag(expectedEtag);
    request.setBytes(dataOf(bytes));
    auto response = co_await call.reply(request.send());
    if (response.has_value() && !response->getConflict()) co_return response->getEtag();
    if (response.has_value()) {
      throw ActorError(ActorFailure::kStateConflict,
                       "state '" + name + "' has etag " + std::to_string(response->getEtag()) +
                           ", the writer expected " + std::to_string(expectedEtag));
    }
    failure = "no answer";
  } catch (const kj::Exception& error) {
    failure = fromKj(error).description();
  } catch (const ActorError&) {
    throw;  // the conflict above
  } catch (const rpc::RpcError& error) {
    failure = std::string(error.maybeDelivered() ? "maybe written: " : "not written: ") +
              error.description();
  } catch (const Exception& error) {
    failure = "the owner failed: " + error.description();  // its store's error
  }
  throw ActorError(ActorFailure::kStateIo, "writing state '" + name + "': " + *failure);
}

}  // namespace moonpool::actors
