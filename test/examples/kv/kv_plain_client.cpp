// The plain Cap'n Proto client of the interop test (see kv_plain_client.h): only KJ,
// Cap'n Proto and the capnp-generated hub.capnp.h and kv_service.capnp.h.
#include "kv_plain_client.h"

#include <capnp/rpc-twoparty.h>
#include <capnp/schema.h>
#include <kj/async-io.h>

#include "hub.capnp.h"
#include "kv_service.capnp.h"

namespace plain_kv {
namespace {

using moonpool::kv::schema::KvStore;
using moonpool::rpc::schema::Hub;

// The name moonpool's Host serves the store under (the C++ interface's qualified name).
constexpr char kStoreServiceName[] = "moonpool::kv::KvStore";
constexpr std::uint32_t kRetryPauseMs = 50;

template <typename Enum>
std::string enumerantName(Enum value) {
  auto enumerants = capnp::Schema::from<Enum>().getEnumerants();
  const auto index = static_cast<unsigned>(value);
  if (index >= enumerants.size()) return "unknown(" + std::to_string(index) + ")";
  return enumerants[index].getProto().getName();
}

kj::Own<kj::AsyncIoStream> connect(kj::AsyncIoContext& io, std::uint16_t port,
                                   std::uint32_t waitMs, Session& out) {
  for (std::uint32_t waited = 0;; waited += kRetryPauseMs) {
    ++out.connectAttempts;
    kj::Maybe<kj::Own<kj::AsyncIoStream>> stream;
    KJ_IF_MAYBE(failure, kj::runCatchingExceptions([&]() {
                  auto address =
                      io.provider->getNetwork().parseAddress("127.0.0.1", port).wait(io.waitScope);
                  stream = address->connect().wait(io.waitScope);
                })) {
      if (waited >= waitMs) throw kj::mv(*failure);
    }
    KJ_IF_MAYBE(connected, stream) { return kj::mv(*connected); }
    io.provider->getTimer().afterDelay(kRetryPauseMs * kj::MILLISECONDS).wait(io.waitScope);
  }
}

void askHub(kj::AsyncIoContext& io, Hub::Client& hub, Session& out) {
  auto ping = hub.pingRequest();
  ping.setNonce(42);
  auto pong = ping.send().wait(io.waitScope);
  out.pingNonce = pong.getNonce();
  out.incarnation = pong.getIncarnation();
  auto names = hub.servicesRequest().send().wait(io.waitScope);
  for (auto name : names.getNames()) out.services.push_back(name);
  auto unknown = hub.lookupRequest();
  unknown.setName("no::Such");
  KJ_IF_MAYBE(failure, kj::runCatchingExceptions([&]() { unknown.send().wait(io.waitScope); })) {
    out.unknownLookupError = failure->getDescription();
  }
}

void putAndGetOn(kj::AsyncIoContext& io, KvStore::Client& store, const std::string& key,
                 std::uint64_t version, const std::string& value, std::uint32_t waitMs,
                 Session& out) {
  for (std::uint32_t waited = 0;; waited += kRetryPauseMs) {
    ++out.putAttempts;
    auto put = store.putRequest();
    auto entry = put.initEntry();
    entry.setKey(key);
    entry.setVersion(version);
    entry.setValue(value);
    auto answer = put.send().wait(io.waitScope);
    const auto status = answer.getResult().getStatus();
    out.putStatus = enumerantName(status);
    const bool retry = status == moonpool::kv::schema::Status::K_NOT_READY ||
                       status == moonpool::kv::schema::Status::K_UNAVAILABLE;
    if (!retry || waited >= waitMs) break;
    io.provider->getTimer().afterDelay(kRetryPauseMs * kj::MILLISECONDS).wait(io.waitScope);
  }
  auto get = store.getRequest();
  get.setKey(key);
  auto answer = get.send().wait(io.waitScope);
  auto result = answer.getResult();
  out.getStatus = enumerantName(result.getStatus());
  out.found = enumerantName(result.getFound());
  out.version = result.getVersion();
  out.value = result.getValue();
}

}  // namespace

Session putAndGet(std::uint16_t port, const std::string& key, std::uint64_t version,
                  const std::string& value, std::uint32_t waitMs) {
  Session out;
  auto io = kj::setupAsyncIo();
  KJ_IF_MAYBE(failure, kj::runCatchingExceptions([&]() {
                auto stream = connect(io, port, waitMs, out);
                capnp::TwoPartyClient client(*stream);
                Hub::Client hub = client.bootstrap().castAs<Hub>();
                askHub(io, hub, out);
                auto lookup = hub.lookupRequest();
                lookup.setName(kStoreServiceName);
                KvStore::Client store = lookup.send().getService().castAs<KvStore>();
                putAndGetOn(io, store, key, version, value, waitMs, out);
              })) {
    out.error = failure->getDescription();
  }
  return out;
}

}  // namespace plain_kv
