// A small replicated key-value store server (examples/kv). Written only against Providers
// and a ServerConfig, so the same code runs in simulation (kv_sim.h) and as the kv_node
// binary (node_main.cpp). Servers and clients talk Cap'n Proto RPC: the protocol is the two
// services of kv_service.h (KvStore for clients, KvReplica between servers), served on one
// rpc::Host per server and called through reconnecting, failure-monitored rpc::Peers.
//
// Cluster: three servers. Server 1 is the primary, statically (no election: the example is
// about surviving faults, not about leader choice; a dead primary means unavailability until
// it comes back, never lost data). Servers 2 and 3 are backups.
//
// Writes. A PUT(key, version, value) reaches the primary, which appends the entry to its
// log (durably, kv_log.h), sends it to both backups, and acknowledges once a majority —
// itself and one backup — holds it durably. PUTs are idempotent: a version <= the one the
// primary has for that key is not appended again; it is acknowledged as soon as the entry
// holding the key's current version is on a majority. GET is served by the primary from
// its map, once the entry it returns is on a majority (so a GET never shows a write that a
// crash could still take back).
//
// Backups append what the primary sends (synced before they answer) and report their log
// length. A backup that is behind — restarted, wiped, partitioned, or with a log tail cut at
// boot — is sent what it misses, in batches, from the length it reports. While the primary
// is away (its connection ended, or nothing heard from it for peerSyncAfter), a
// backup copies from the other backup what that one holds beyond its own log: an entry
// acknowledged just before the primary died may live on one backup only, and waiting for
// the primary to come back would leave it exposed to a second failure meanwhile.
//
// Epochs (fencing). Each primary incarnation takes an epoch larger than any a backup has
// promised: it sends Claim(e) to both backups, which persist "promised = e" and from then on
// refuse messages of older epochs (kStale). Without this, bytes of a dead incarnation still
// in flight (a stalled connection across a partition) could land on a backup after the new
// incarnation recovered and make the logs diverge. Epochs are bounded (kEpochMax, and at
// most kEpochStepMax above a promise: kv_service.h), and a recovering primary backs off when
// its claims keep coming back stale (another primary is claiming too). A promise file whose
// every copy is corrupt stops the backup at boot with an error (kv_log.h) rather than
// reading as epoch 0.
//
// Recovery. Every time the primary boots it claims both backups — and waits until BOTH
// answer — then adopts the longest of the three logs (its own included), fetching the
// missing entries. Both are needed because an acknowledged entry is guaranteed to be on
// the primary and on *at least one* backup, and the primary does not know which; its own
// copy may be gone (a crash-and-wipe, or a log tail cut at boot). Every log is a prefix of
// the same history (the chained hash checks it), so the longest contains every other.
// Entries held by no one were never acknowledged, so forgetting them is safe.
//
// Local failures. A storage error that the log cannot repair (kv_log.h) ends the server's
// incarnation: every task stops, and the server boots again from its files after a delay,
// like a process restart. A corrupt frame (checksummed framing, on whenever the network may
// flip bits) or bytes that are not Cap'n Proto close that connection; the peer reconnects.
//
// Tolerated faults: any one server down at a time (crash, wipe, pause), message loss,
// delay, reordering across connections, bit flips, torn, lost, misdirected and corrupted
// writes (kv_log.h verifies every append by reading it back). Not tolerated (no design with
// three copies can): losing two copies of an acknowledged entry before one of them is
// refilled — for instance wiping the backup that held an entry and then the primary, before
// the other backup received it. Caveat: epochs live in the backups' promise files; if both
// were lost while a dead primary's bytes were still in flight, fencing could admit a stale
// message (three failures at once). In the simulator a crash resets the process's
// connections, so stale bytes only come from graceful stops; fencing is there for real
// processes, whose kernel may deliver a killed process's buffered bytes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/rpc/tls.h"
#include "observe.h"

namespace moonpool::kv {

inline constexpr std::size_t kServers = 3;
inline constexpr std::uint32_t kPrimaryId = 1;
inline constexpr std::uint16_t kDefaultPort = 7400;

struct ServerTuning {
  // The deadline of a call to another server (waiting for a connection included); a call
  // that misses it is retried after a backoff.
  Duration peerTimeout = std::chrono::milliseconds(500);
  // An idle replicator probes its backup this often (notices restarts and lost logs).
  Duration probeInterval = std::chrono::seconds(2);
  // A client request waits at most this long for its entry to reach a majority.
  Duration commitWaitMax = std::chrono::seconds(2);
  // Backoff between retries of a failed backup request.
  DurationRange retry{std::chrono::milliseconds(20), std::chrono::milliseconds(300)};
  // A backup that heard nothing from the primary for this long — or whose connection from
  // the primary ended — copies what the other backup holds beyond its own log. Above
  // probeInterval, so an idle but present primary does not set it off.
  Duration peerSyncAfter = std::chrono::seconds(3);
  // Pause before a new incarnation after a local storage failure.
  Duration restartDelay = std::chrono::milliseconds(200);
};

// How a server's RPC host holds hostile or broken peers off (rpc/two_party.h RpcOptions).
// The defaults fit the KV protocol (its largest message, a full append, is about 70 KiB)
// and protect a production node; kv_node can change them by flag.
struct ServerRpcLimits {
  std::uint32_t connectionsMax = 64;
  // Bytes of one partially received message, and of answers queued for one peer.
  std::size_t incomingBytesMax = std::size_t{1} << 20;
  std::size_t outgoingBytesMax = std::size_t{4} << 20;
  // The same, summed over every connection of the server (its host and its peers).
  std::size_t budgetBytesMax = std::size_t{32} << 20;
  // A connection must send a whole first message within firstMessageTimeout (the TLS
  // handshake included), then one at least every idleTimeout (peers ping every second).
  Duration firstMessageTimeout = std::chrono::seconds(5);
  Duration idleTimeout = std::chrono::seconds(30);
};

// Who may call what. Clients may call KvStore; KvReplica admits only cluster members: under
// TLS peers whose certificate name is in memberNames, on a plain network peers at one of
// the servers' IPs (or extraMemberIps). On real processes sharing 127.0.0.1 a plain
// network cannot tell a member from anyone else: production clusters set up TLS.
struct ServerSecurity {
  // Mutual TLS on every connection of the server (host and peers; rpc/tls.h): loaded by
  // kv_node from --tls_cert/--tls_key/--tls_ca. Set, a plaintext peer or one without a
  // certificate signed by the CA is refused. Production only: the simulated network stays
  // plain (null).
  std::shared_ptr<rpc::Tls> tls;
  // Certificate common names of the members (empty: kv-1, kv-2, kv-3).
  std::vector<std::string> memberNames;
  // Without TLS: IPs admitted as members besides the servers' own (a test probe, a tool).
  std::vector<IpAddress> extraMemberIps;
};

struct ServerConfig {
  std::uint32_t id = kPrimaryId;  // 1..kServers; server 1 is the primary
  // servers[i] is server i+1's address; this server listens on servers[id-1].port at its
  // network provider's own IP.
  std::array<NetAddress, kServers> servers{};
  std::string logPath = "kv.log";
  std::string promisePath = "kv.promise";
  ServerTuning tuning{};
  ServerRpcLimits limits{};
  ServerSecurity security{};
  EventSink* events = nullptr;      // outlives the server; may be null
  KvCounters* counters = nullptr;   // outlives the server; may be null
};

// Checks a config (ids, distinct addresses); the error names the problem.
std::string validateServerConfig(const ServerConfig& config);

// Runs server config.id until cancelled: boots from its files, serves, and starts a new
// incarnation after a local storage failure. Never throws for faults of the network or the
// disk; a bad config is a check failure (validate first).
Task<void> runServer(Providers providers, ServerConfig config);

// "kv-1", "kv-2", "kv-3".
std::string serverName(std::uint32_t id);

}  // namespace moonpool::kv
