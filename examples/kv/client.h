// The KV store's client workload and its checks (examples/kv). The same code drives the
// simulated clients (kv_sim.h) and the kv_client binary (client_main.cpp).
//
// A client owns a few keys ("c<id>/k<i>") that no one else writes, so it knows exactly
// which versions exist. It loops: think, pick one of its keys, then PUT the next version
// (value derived from client, key and version, so any returned value can be checked) or
// GET and check. It calls the primary through an rpc::Peer (reconnecting, failure-monitored)
// and the generated KvStoreRemote; put and get are idempotent, so the remote itself resends
// them after a reconnect, within the request's deadline. A request that still fails (timed
// out, failed fast while the primary is marked failed, kNotReady, kUnavailable) is retried
// with exponential backoff until it succeeds or the workload's time is up. PUT retries are
// safe: the server treats (key, version) as idempotent.
//
// The checker. Per key this is a single-writer register: one client writes it, with
// strictly increasing versions and a distinct value per version, and only that client reads
// it, one operation at a time. For such a history linearizability comes down to three
// conditions on every read, all checked on every GET (and again by verifyLedger at the end):
//   - not stale: the version is >= the highest one acknowledged before the GET was issued
//     (no lost acknowledged write; read-your-writes);
//   - monotonic: the version is >= the highest one an earlier GET returned (a write seen
//     once never disappears, even one whose PUT timed out);
//   - genuine: the version was sent by this client (<= the highest sent so far) and the
//     value is exactly the one written with it (never a corrupt or invented value).
// A violation is an ALWAYS assertion failure and a line in the ledger's violations.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "observe.h"

namespace moonpool::rpc {
class Tls;
}  // namespace moonpool::rpc

namespace moonpool::kv {

inline constexpr std::size_t kKeysPerClientMax = 64;

struct ClientConfig {
  std::uint32_t clientId = 1;
  NetAddress primary;
  std::size_t keys = 4;  // 1..kKeysPerClientMax
  Probability putShare{0.5};
  DurationRange think{std::chrono::milliseconds(20), std::chrono::milliseconds(200)};
  Duration requestTimeout = std::chrono::seconds(1);
  // Retry backoff: doubles from backoff.min per failed attempt, capped at backoff.max.
  DurationRange backoff{std::chrono::milliseconds(10), std::chrono::seconds(1)};
  // The workload stops issuing requests after this long (its own clock) or this many
  // operations, whichever comes first.
  Duration runFor = std::chrono::seconds(60);
  std::uint64_t opsMax = std::numeric_limits<std::uint64_t>::max();
  EventSink* events = nullptr;     // may be null; outlives the client
  KvCounters* counters = nullptr;  // may be null; outlives the client
  // Mutual TLS to the servers (rpc/tls.h); null: plain TCP.
  std::shared_ptr<rpc::Tls> tls = nullptr;
};

struct KeyLedger {
  std::uint64_t acked = 0;  // highest version acknowledged to this client
  std::uint64_t sent = 0;   // highest version ever sent (acknowledged or not)
  std::uint64_t read = 0;   // highest version a GET returned
};

// What a client knows after its run; owned by whoever started it.
struct ClientLedger {
  std::uint32_t clientId = 0;
  std::map<std::string, KeyLedger> keys;
  std::vector<std::string> violations;
  std::uint64_t putsAcked = 0;
  std::uint64_t getsChecked = 0;
  std::uint64_t abandoned = 0;  // requests still unanswered when the time was up
  enum class State : std::uint8_t { kRunning, kDone };
  State state = State::kRunning;
};

// "c<client>/k<index>".
std::string keyName(std::uint32_t clientId, std::size_t index);
// The value a client writes with `version` (deterministic, 10 to about 620 bytes).
std::string valueFor(std::uint32_t clientId, const std::string& key, std::uint64_t version);

// Runs the workload (see the header comment); fills `ledger` (outlives the Task) and sets
// its state to kDone at the end. Never throws for network faults.
Task<void> runClient(Providers providers, ClientConfig config, ClientLedger* ledger);

// Reads every key of `ledger` from `primary`, retrying each until `limit` has passed, and
// checks it as the workload checks a GET (above). Returns the violations (empty: every
// acknowledged write is there with its version, no key went back, and every value is the
// one written).
Task<std::vector<std::string>> verifyLedger(Providers providers, NetAddress primary,
                                            const ClientLedger* ledger, Duration limit,
                                            Duration requestTimeout,
                                            std::shared_ptr<rpc::Tls> tls = nullptr);

}  // namespace moonpool::kv
