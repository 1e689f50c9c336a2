// The KV client workload and checks (see client.h).
#include "client.h"

#include <algorithm>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "link.h"
#include "moonpool/assertions.h"
#include "moonpool/internal/check.h"

namespace moonpool::kv {
namespace {

struct ReplyHeader {
  std::uint64_t requestId = 0;
  Status status = Status::kOk;
};

void setRequestId(Message& request, std::uint64_t id) {
  if (auto* put = std::get_if<PutRequest>(&request)) put->requestId = id;
  if (auto* get = std::get_if<GetRequest>(&request)) get->requestId = id;
}

std::optional<ReplyHeader> replyHeader(const Message& reply) {
  if (const auto* put = std::get_if<PutReply>(&reply)) return ReplyHeader{put->requestId, put->status};
  if (const auto* get = std::get_if<GetReply>(&reply)) return ReplyHeader{get->requestId, get->status};
  return std::nullopt;
}

// Checks one successful GET against what the client knows; returns the problem, if any.
std::optional<std::string> readProblem(std::uint32_t clientId, const std::string& key,
                                       const KeyLedger& known, const GetReply& reply,
                                       std::uint64_t ackedBefore) {
  const std::uint64_t version = reply.found == Found::kYes ? reply.version : 0;
  const bool fresh = version >= ackedBefore;
  MOONPOOL_ALWAYS(fresh,
                  "a GET never returns a version lower than the highest one acknowledged "
                  "before it (no lost acknowledged write)");
  const bool genuine = reply.found == Found::kNo ||
                       (reply.version >= 1 && reply.version <= known.sent &&
                        reply.value == valueFor(clientId, key, reply.version));
  MOONPOOL_ALWAYS(genuine, "a GET returns exactly the value written with its version");
  if (fresh && genuine) return std::nullopt;
  return absl::StrCat("key ", key, ": read version ", version, " (",
                      genuine ? "value ok" : "value NOT the one written", "), acknowledged ",
                      ackedBefore, " before the read, highest sent ", known.sent);
}

class Client {
 public:
  Client(Providers providers, ClientConfig config, ClientLedger* ledger)
      : providers_(providers),
        config_(std::move(config)),
        ledger_(ledger),
        name_("client-" + std::to_string(config_.clientId)),
        link_(providers, config_.primary, config_.requestTimeout, name_, config_.events,
              config_.counters),
        start_(providers.time().now()) {}

  Task<void> run();

 private:
  bool timeUp() const {
    return ops_ >= config_.opsMax || providers_.time().now() - start_ >= config_.runFor;
  }
  Task<void> put(std::string key);
  Task<void> get(std::string key);
  // Sends `request` until it succeeds; nullopt when the time is up or the server refused
  // it for good.
  Task<std::optional<Message>> exchange(Message request);
  Task<void> backoff(int attempt);

  Providers providers_;
  const ClientConfig config_;
  ClientLedger* ledger_;
  const std::string name_;
  RpcLink link_;
  const TimePoint start_;
  std::uint64_t ops_ = 0;
  std::uint64_t nextRequestId_ = 1;
};

Task<void> Client::run() {
  while (!timeUp()) {
    const Duration think = providers_.random().durationBetween(config_.thinkLo, config_.thinkHi);
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
  if (config_.counters != nullptr && link_.connects() > 1) {
    config_.counters->reconnects += link_.connects() - 1;
  }
}

Task<void> Client::put(std::string key) {
  KeyLedger& known = ledger_->keys[key];  // std::map: the reference stays valid
  const std::uint64_t version = known.sent + 1;
  known.sent = version;
  PutRequest request{.clientId = config_.clientId,
                     .entry = Entry{key, version, valueFor(config_.clientId, key, version)}};
  std::optional<Message> reply = co_await exchange(Message(std::move(request)));
  if (!reply) co_return;
  known.acked = std::max(known.acked, version);
  ++ledger_->putsAcked;
  if (config_.counters != nullptr) ++config_.counters->putsAcked;
}

Task<void> Client::get(std::string key) {
  const std::uint64_t ackedBefore = ledger_->keys[key].acked;
  std::optional<Message> reply = co_await exchange(Message(GetRequest{.key = key}));
  if (!reply) co_return;
  ++ledger_->getsChecked;
  if (config_.counters != nullptr) ++config_.counters->getsOk;
  std::optional<std::string> problem = readProblem(config_.clientId, key, ledger_->keys[key],
                                                   std::get<GetReply>(*reply), ackedBefore);
  if (problem) ledger_->violations.push_back(name_ + ": " + *problem);
}

Task<std::optional<Message>> Client::exchange(Message request) {
  bool timedOut = false;
  for (int attempt = 0;; ++attempt) {
    if (providers_.time().now() - start_ >= config_.runFor) {
      ++ledger_->abandoned;
      co_return std::nullopt;
    }
    const std::uint64_t id = nextRequestId_++;
    setRequestId(request, id);
    absl::StatusOr<Message> reply = co_await link_.call(request);
    if (reply.ok()) {
      std::optional<ReplyHeader> header = replyHeader(*reply);
      if (!header || header->requestId != id) {
        link_.close();  // not an answer to this request: start over on a fresh connection
      } else if (header->status == Status::kOk) {
        MOONPOOL_SOMETIMES(timedOut, "a request timed out and was retried");
        MOONPOOL_SOMETIMES(link_.connects() > 1, "a client reconnected after a failure");
        co_return std::move(*reply);
      } else if (header->status != Status::kNotReady && header->status != Status::kUnavailable) {
        ledger_->violations.push_back(absl::StrCat(name_, ": request refused with '",
                                                   statusName(header->status), "'"));
        co_return std::nullopt;
      }
    } else if (reply.status().code() == absl::StatusCode::kDeadlineExceeded) {
      timedOut = true;
      if (config_.counters != nullptr) ++config_.counters->requestTimeouts;
    }
    co_await backoff(attempt);
  }
}

Task<void> Client::backoff(int attempt) {
  const int doublings = std::min(attempt, 20);
  const Duration ceiling = std::min(config_.backoffHi, config_.backoffLo * (1 << doublings));
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
  ledger->clientId = config.clientId;
  for (std::size_t i = 0; i < config.keys; ++i) ledger->keys[keyName(config.clientId, i)];
  Client client(providers, std::move(config), ledger);
  co_await client.run();
  ledger->state = ClientLedger::State::kDone;
}

Task<std::vector<std::string>> verifyLedger(Providers providers, NetAddress primary,
                                            const ClientLedger* ledger, Duration limit,
                                            Duration requestTimeout) {
  std::vector<std::string> violations = ledger->violations;
  RpcLink link(providers, primary, requestTimeout, "checker", nullptr, nullptr);
  const TimePoint deadline = providers.time().now() + limit;
  std::uint64_t requestId = 1;
  for (const auto& [key, known] : ledger->keys) {
    std::optional<GetReply> answer;
    while (!answer && providers.time().now() < deadline) {
      const std::uint64_t id = requestId++;
      absl::StatusOr<Message> reply = co_await link.call(GetRequest{.requestId = id, .key = key});
      const auto* get = reply.ok() ? std::get_if<GetReply>(&*reply) : nullptr;
      if (get != nullptr && get->requestId == id && get->status == Status::kOk) {
        answer = *get;
      } else {
        co_await providers.time().sleep(std::chrono::milliseconds(50));
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
