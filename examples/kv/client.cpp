// The KV client workload and checks (see client.h).
#include "client.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "kv_service.moonpool.h"
#include "moonpool/assertions.h"
#include "moonpool/check.h"
#include "remote.h"

namespace moonpool::kv {
namespace {

using namespace std::chrono_literals;

// Pause between two reads of one key in the final check.
constexpr Duration kVerifyRetryPause = 50ms;
// The backoff doubles at most this many times (then stays at backoff.max).
constexpr int kBackoffDoublingsMax = 20;

// Checks one successful GET against what the client knows (client.h "The checker");
// returns the problem, if any.
std::optional<std::string> readProblem(std::uint32_t clientId, const std::string& key,
                                       const KeyLedger& known, const GetReply& reply,
                                       std::uint64_t ackedBefore) {
  const std::uint64_t version = reply.found == Found::kYes ? reply.version : 0;
  const bool fresh = version >= ackedBefore;
  MOONPOOL_ALWAYS(fresh,
                  "a GET never returns a version lower than the highest one acknowledged "
                  "before it (no lost acknowledged write)");
  const bool monotonic = version >= known.read;
  MOONPOOL_ALWAYS(monotonic, "a GET never returns a version lower than an earlier GET did");
  const bool genuine = reply.found == Found::kNo ||
                       (reply.version >= 1 && reply.version <= known.sent &&
                        reply.value == valueFor(clientId, key, reply.version));
  MOONPOOL_ALWAYS(genuine, "a GET returns exactly the value written with its version");
  if (fresh && monotonic && genuine) return std::nullopt;
  return absl::StrCat("key ", key, ": read version ", version, " (",
                      genuine ? "value ok" : "value NOT the one written", "), acknowledged ",
                      ackedBefore, " before the read, earlier reads up to ", known.read,
                      ", highest sent ", known.sent);
}

rpc::PeerOptions clientPeerOptions(const ClientConfig& config, std::string name) {
  rpc::PeerOptions options =
      peerOptions(config.requestTimeout, std::move(name), config.events, config.counters);
  options.rpc.tls = config.tls;
  return options;
}

class Client {
 public:
  Client(Providers providers, ClientConfig config, ClientLedger* ledger)
      : providers_(providers),
        config_(std::move(config)),
        ledger_(ledger),
        name_("client-" + std::to_string(config_.clientId)),
        primary_(providers, config_.primary, clientPeerOptions(config_, name_), config_.counters),
        store_(primary_.peer()),
        start_(providers.time().now()) {}

  Task<void> run();

 private:
  bool timeUp() const {
    return ops_ >= config_.opsMax || providers_.time().now() - start_ >= config_.runFor;
  }
  Task<void> put(std::string key);
  Task<void> get(std::string key);
  // Calls store_.*method(argument) until the primary answers kOk; nullopt when the time is
  // up or the server refused the request for good.
  template <typename T, typename Argument>
  Task<std::optional<T>> exchange(Task<T> (schema::KvStoreRemote::*method)(Argument),
                                  Argument argument);
  // Counts a failed call and feeds the client's sometimes-assertions.
  template <typename T>
  void noteFailure(const Reply<T>& reply);
  Task<void> backoff(int attempt);

  Providers providers_;
  const ClientConfig config_;
  ClientLedger* ledger_;
  const std::string name_;
  KvPeer primary_;
  schema::KvStoreRemote store_;
  const TimePoint start_;
  std::uint64_t ops_ = 0;
};

Task<void> Client::run() {
  while (!timeUp()) {
    const Duration think = providers_.random().durationIn(config_.think);
    co_await providers_.time().sleepUntil(std::min(providers_.time().now() + think,
                                                   start_ + config_.runFor));
    if (timeUp()) break;
    const std::string key = keyName(config_.clientId, providers_.random().index(config_.keys));
    ++ops_;
    if (providers_.random().chance(config_.putShare)) {
      co_await put(key);
    } else {
      co_await get(key);
    }
  }
}

Task<void> Client::put(std::string key) {
  KeyLedger& known = ledger_->keys[key];  // std::map: the reference stays valid
  const std::uint64_t version = known.sent + 1;
  known.sent = version;
  Entry entry{key, version, valueFor(config_.clientId, key, version)};
  std::optional<PutReply> reply =
      co_await exchange(&schema::KvStoreRemote::put, std::move(entry));
  if (!reply) co_return;
  known.acked = std::max(known.acked, version);
  ++ledger_->putsAcked;
  if (config_.counters != nullptr) ++config_.counters->putsAcked;
}

Task<void> Client::get(std::string key) {
  KeyLedger& known = ledger_->keys[key];
  const std::uint64_t ackedBefore = known.acked;
  std::optional<GetReply> reply = co_await exchange(&schema::KvStoreRemote::get, key);
  if (!reply) co_return;
  ++ledger_->getsChecked;
  if (config_.counters != nullptr) ++config_.counters->getsOk;
  std::optional<std::string> problem =
      readProblem(config_.clientId, key, known, *reply, ackedBefore);
  if (problem) ledger_->violations.push_back(name_ + ": " + *problem);
  if (reply->found == Found::kYes) known.read = std::max(known.read, reply->version);
}

template <typename T, typename Argument>
Task<std::optional<T>> Client::exchange(Task<T> (schema::KvStoreRemote::*method)(Argument),
                                        Argument argument) {
  bool timedOut = false;
  for (int attempt = 0;; ++attempt) {
    if (providers_.time().now() - start_ >= config_.runFor) {
      ++ledger_->abandoned;
      co_return std::nullopt;
    }
    Reply<T> reply = co_await primary_.call((store_.*method)(argument));
    if (reply.ok() && reply.value->status == Status::kOk) {
      MOONPOOL_SOMETIMES(timedOut, "a request timed out and was retried");
      MOONPOOL_SOMETIMES(primary_.peer().stats().reconnects > 0,
                         "a client reconnected after a failure");
      co_return std::move(reply.value);
    }
    if (reply.ok() && reply.value->status != Status::kNotReady &&
        reply.value->status != Status::kUnavailable) {
      ledger_->violations.push_back(absl::StrCat(name_, ": request refused with '",
                                                 statusName(reply.value->status), "'"));
      co_return std::nullopt;
    }
    if (!reply.ok()) {
      timedOut |= reply.failed(rpc::RpcFailure::kTimedOut);
      noteFailure(reply);
    }
    co_await backoff(attempt);
  }
}

template <typename T>
void Client::noteFailure(const Reply<T>& reply) {
  const bool timedOut = reply.failed(rpc::RpcFailure::kTimedOut);
  const bool failedFast = reply.failed(rpc::RpcFailure::kPeerFailed);
  const bool maybe = reply.delivered == rpc::Delivered::kMaybe;
  MOONPOOL_SOMETIMES(maybe, "a client request failed 'maybe delivered' (the server may have "
                            "acted on it)");
  MOONPOOL_SOMETIMES(failedFast, "a client request failed fast: the failure monitor had "
                                 "the primary failed");
  if (config_.counters == nullptr) return;
  if (timedOut) ++config_.counters->requestTimeouts;
  if (failedFast) ++config_.counters->failFast;
  if (maybe) ++config_.counters->maybeDelivered;
}

Task<void> Client::backoff(int attempt) {
  const int doublings = std::min(attempt, kBackoffDoublingsMax);
  const Duration ceiling = std::min(config_.backoff.max, config_.backoff.min * (1 << doublings));
  co_await providers_.time().sleep(
      providers_.random().durationBetween(ceiling / 2, ceiling + Duration(1)));
}

}  // namespace

std::string keyName(std::uint32_t clientId, std::size_t index) {
  return absl::StrCat("c", clientId, "/k", index);
}

std::string valueFor(std::uint32_t clientId, const std::string& key, std::uint64_t version) {
  // Fully determined by its inputs; lengths from a few bytes to most of a 512-byte sector
  // and beyond, so log records straddle sector boundaries (what a torn write can cut).
  std::string value = absl::StrCat(key, "@", version, "#", clientId, ":");
  const std::size_t padding = static_cast<std::size_t>((version * 37 + clientId * 11) % 600);
  value.append(padding, static_cast<char>('a' + version % 26));
  return value;
}

Task<void> runClient(Providers providers, ClientConfig config, ClientLedger* ledger) {
  MOONPOOL_CHECK(config.keys >= 1 && config.keys <= kKeysPerClientMax, "client key count");
  MOONPOOL_CHECK(config.think.valid() && config.backoff.valid(),
                 "client think and backoff ranges need 0 <= min <= max");
  ledger->clientId = config.clientId;
  for (std::size_t i = 0; i < config.keys; ++i) ledger->keys[keyName(config.clientId, i)];
  {
    // Its peer goes with it: the primary's connection closes before the ledger says done.
    auto client = std::make_unique<Client>(providers, std::move(config), ledger);
    co_await client->run();
  }
  ledger->state = ClientLedger::State::kDone;
}

Task<std::vector<std::string>> verifyLedger(Providers providers, NetAddress primary,
                                            const ClientLedger* ledger, Duration limit,
                                            Duration requestTimeout,
                                            std::shared_ptr<rpc::Tls> tls) {
  std::vector<std::string> violations = ledger->violations;
  rpc::PeerOptions options = peerOptions(requestTimeout, "checker", nullptr, nullptr);
  options.rpc.tls = std::move(tls);
  KvPeer peer(providers, primary, std::move(options), nullptr);
  schema::KvStoreRemote store(peer.peer());
  const TimePoint deadline = providers.time().now() + limit;
  for (const auto& [key, known] : ledger->keys) {
    std::optional<GetReply> answer;
    while (!answer && providers.time().now() < deadline) {
      Reply<GetReply> reply = co_await peer.call(store.get(key));
      if (reply.ok() && reply.value->status == Status::kOk) {
        answer = *reply.value;
      } else {
        co_await providers.time().sleep(kVerifyRetryPause);
      }
    }
    if (!answer) {
      violations.push_back(absl::StrCat("final check: key ", key, " got no answer within ",
                                        formatDuration(limit)));
      continue;
    }
    std::optional<std::string> problem =
        readProblem(ledger->clientId, key, known, *answer, known.acked);
    if (problem) violations.push_back("final check: " + *problem);
  }
  co_return violations;
}

}  // namespace moonpool::kv
