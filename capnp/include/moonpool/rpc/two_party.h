// Two-party Cap'n Proto RPC over a moonpool NetworkProvider (capnp/ layer).
//
//   // server process
//   auto server = RpcServer::listen(p.network(), {0, 5000}, kj::heap<EchoImpl>()).orThrow();
//   co_await server->serve();
//
//   // client process
//   auto client = (co_await RpcClient::connect(p.network(), serverAddress)).orThrow();
//   Echo::Client echo = client->bootstrap().castAs<Echo>();
//   auto response = co_await awaitPromise(echo.echoRequest().send());
//
// The RPC system is Cap'n Proto's own (capnp::RpcSystem over capnp::TwoPartyVatNetwork),
// unmodified; only the byte stream underneath is moonpool's (connection_stream.h). So the
// same code runs on the simulated network, under its faults and on simulated time, and on
// real TCP (RealNetworkProvider). In simulation a SimKjLoop must exist (sim_kj_loop.h), and
// be created before and destroyed after the servers and clients.
//
// Defences against a bad peer (RpcOptions; the defaults protect a production node):
//   - traversalLimitWords / nestingLimit: capnp::ReaderOptions of every message received.
//     A message larger than the traversal limit is refused before it is read (the
//     connection is dropped); a message read past either limit throws inside the call that
//     reads it (the call fails, the connection stays).
//   - callsInFlightMax: incoming calls not yet answered; at the cap the connection stops
//     reading until one returns (backpressure onto the peer; at most the 8 KiB read buffer
//     below is read ahead), so a peer cannot make the server hold unbounded work.
//   - callWordsInFlightMax: the same bound in words of call parameters
//     (capnp::RpcSystem::setFlowLimit).
//   - incomingBytesMax: bytes of a partially received message one connection may hold (so
//     also the largest message accepted), charged at the size its segment table declares
//     before its body is waited for; outgoingBytesMax: bytes of answers queued for a peer
//     that does not read them (small outgoing messages are gathered into one write per
//     batch, and the batch's copies count). Both sides of every connection. Besides these,
//     each connection keeps a fixed 8 KiB read buffer (one read takes every message that
//     has arrived), so connectionsMax bounds that memory too.
//   - budget: the same two bounds summed over every connection sharing the RpcBudget (a
//     server's connections by default; share one across servers and clients to bound a
//     whole process). A read that would take the sum past its cap is refused.
//   - firstMessageTimeout / idleTimeout (server side): a connection must deliver a complete
//     first message soon after it is accepted (the TLS handshake included), and then one at
//     least every idleTimeout (rpc::Peer's pings keep a live peer well inside it).
//   - connectionsMax / connectionsPerIpMax (server side), with admission that cannot be
//     starved: a new connection beyond either cap evicts the oldest connection that has not
//     yet delivered a message, else the one idle the longest if it has been idle for
//     evictIdleAfter; only when every connection is busy is the new one refused. A flood of
//     idle, half-open or slow-drip connections thus never locks a working client out.
//   - accept errors (descriptors exhausted, an aborted handshake, no buffers) are logged
//     and retried after a backoff (acceptBackoffInitial .. acceptBackoffMax); the listener
//     survives them. The backlog is handed to listen().
//   - framing: optional CRC32C per frame (checksummed_stream.h), so corruption is detected
//     rather than decoded; by default on exactly when the network may flip bits.
//   - garbage: bytes that are not Cap'n Proto RPC make Cap'n Proto abort the connection;
//     the server keeps serving everyone else.
//   - tls: mutual TLS (tls.h); a peer failing the handshake (no or a foreign certificate,
//     plaintext) is refused (DisconnectCause::kRefused) with the handshake's reason.
// Every dropped connection produces a DisconnectReport with the cause and the reason, handed
// to RpcOptions::onDisconnect; without a sink the abnormal ones are logged, at most
// kDisconnectLogsPerSecondMax lines a second (the rest are counted and summarised).
// Caveat (both call caps): while a connection is at its cap nothing is read from it, returns
// included, so calls that wait on calls in the opposite direction can deadlock at a cap that
// is too low (capnp's flow-limit caveat).
//
// Errors: calls on a connection that broke fail with DISCONNECTED (moonpool kDisconnected
// when awaited from a Task). listen() and connect() return IoErrors (network.h), and
// kInvalidArgument for options out of range.
//
// Lifetime: the NetworkProvider outlives servers and clients; capabilities obtained from a
// client may outlive it (they become broken). Everything runs on the thread of the executor
// that created it.
#pragma once

#include <capnp/capability.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/task.h"
#include "moonpool/time.h"

namespace moonpool::rpc {

// kAuto: checksummed when the connection says it may corrupt bytes (Connection::corruptsBytes:
// a simulated link opened while bit flips were on), plain otherwise. Both ends of one
// connection decide alike.
enum class Framing : std::uint8_t { kAuto, kPlain, kChecksummed };
Framing resolveFraming(Framing framing, const Connection& connection);

// Why a connection ended, as far as this side can tell.
enum class DisconnectCause : std::uint8_t {
  kClosed,         // the peer closed the connection or shut its RPC system down
  kIoError,        // the byte stream failed: reset, broken pipe, truncated frame...
  kCorrupted,      // checksummed framing caught corrupted bytes
  kProtocolError,  // the peer sent bytes that are not valid Cap'n Proto RPC; we aborted
  kPeerAborted,    // the peer aborted the connection, saying why
  kLimit,          // this side closed it: a lifecycle or memory limit (RpcOptions), or an
                   // eviction to admit another connection; the reason names the limit
  kRefused,        // this side refused the peer: authentication or authorization failed
};
inline constexpr std::size_t kDisconnectCauseCount = 7;
std::string_view disconnectCauseName(DisconnectCause cause);

// Who is at the other end of a connection, as far as this side knows.
struct PeerInfo {
  NetAddress address;
  // The authenticated name: the common name of the peer's certificate under TLS; empty
  // when the peer is not authenticated (plain TCP, the simulated network).
  std::string certificateName;
};

struct DisconnectReport {
  NetAddress local;
  NetAddress peer;
  DisconnectCause cause = DisconnectCause::kClosed;
  std::string reason;

  // "10.0.1.1:5000 <- 10.0.1.2:49152: protocol error: <reason>"
  std::string toString() const;
};

using DisconnectSink = std::function<void(const DisconnectReport&)>;

namespace internal {
class WatchedMessageStream;
}
class Tls;

// Bytes summed over every connection that shares it (RpcOptions::budget). One executor
// thread: plain counters. When a read would take the incoming sum past its cap, the
// connections holding the largest partial messages (larger than the reader's) are closed to
// make room, so small messages win over large unfinished ones and a few peers sending huge
// bodies cannot lock everyone out; otherwise the reader's connection is closed. A queue
// over the outgoing cap closes the connection whose queue was measured.
struct RpcBudget {
  std::size_t incomingBytesMax = std::size_t{128} << 20;
  std::size_t outgoingBytesMax = std::size_t{128} << 20;
  std::size_t incomingBytes = 0;  // held now by partially received messages
  std::size_t outgoingBytes = 0;  // queued now for peers
  std::uint64_t refusals = 0;     // connections closed because a sum was at its cap
  // The connections sharing it, by registration order (internal bookkeeping).
  std::map<std::uint64_t, internal::WatchedMessageStream*> holders;
  std::uint64_t nextHolder = 0;
};

// Every duration option lies in [kRpcDurationMin, kRpcDurationMax] (validateRpcOptions).
inline constexpr Duration kRpcDurationMin = std::chrono::milliseconds(1);
inline constexpr Duration kRpcDurationMax = std::chrono::hours(24 * 365);

// At most this many disconnects a second are logged by the default sink; the rest are
// counted and reported in the next line logged.
inline constexpr std::uint32_t kDisconnectLogsPerSecondMax = 10;

struct RpcOptions {
  // capnp::ReaderOptions for every message received. The traversal limit also caps the
  // size of one message (8 Mi words = 64 MiB, capnp's default).
  std::uint64_t traversalLimitWords = 8 * 1024 * 1024;
  int nestingLimit = 64;
  std::uint32_t callsInFlightMax = 1024;
  std::size_t callWordsInFlightMax = 8 * 1024 * 1024;
  Framing framing = Framing::kAuto;
  // Mutual TLS on every connection (tls.h); null: plain. Production only: clients must use
  // connect() (over() cannot run a handshake).
  std::shared_ptr<Tls> tls = nullptr;
  // Per connection (see the top): a partially received message may hold at most
  // incomingBytesMax; answers queued for the peer at most outgoingBytesMax.
  std::size_t incomingBytesMax = std::size_t{16} << 20;
  std::size_t outgoingBytesMax = std::size_t{16} << 20;
  // Shared caps; null: a server makes one for its connections (and a client its own) with
  // RpcBudget's default caps.
  std::shared_ptr<RpcBudget> budget = nullptr;
  // Server only: the listen backlog, connections served at once, and from one IP address.
  std::size_t backlog = 64;
  std::uint32_t connectionsMax = 1024;
  std::uint32_t connectionsPerIpMax = 256;
  // Server only: deadlines of a connection (see the top) and admission.
  Duration firstMessageTimeout = std::chrono::seconds(10);
  Duration idleTimeout = std::chrono::seconds(120);
  Duration evictIdleAfter = std::chrono::seconds(5);
  // Server only: the wait after a failed accept doubles from the first to the second.
  Duration acceptBackoffInitial = std::chrono::milliseconds(10);
  Duration acceptBackoffMax = std::chrono::seconds(1);
  // Receives a report for every connection that ended (not for those this side destroyed).
  // Null: protocol errors, corruption and peer aborts are logged with KJ_LOG(WARNING).
  DisconnectSink onDisconnect = nullptr;
};

// kInvalidArgument naming the first option out of range, or success.
IoResult<void> validateRpcOptions(const RpcOptions& options);

class RpcServer {
 public:
  // Listens on `address` (port 0 picks one) and serves `bootstrap` on every connection.
  // `time` measures the connections' deadlines and the accept backoff.
  static IoResult<std::unique_ptr<RpcServer>> listen(NetworkProvider& network, TimeProvider& time,
                                                     NetAddress address,
                                                     ::capnp::Capability::Client bootstrap,
                                                     RpcOptions options = {});
  // The same with a bootstrap capability made for each connection (it may depend on who the
  // peer is: Host gives each connection a hub that knows its peer).
  using BootstrapFactory = std::function<::capnp::Capability::Client(const PeerInfo&)>;
  static IoResult<std::unique_ptr<RpcServer>> listen(NetworkProvider& network, TimeProvider& time,
                                                     NetAddress address, BootstrapFactory bootstrap,
                                                     RpcOptions options = {});
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;
  // Closes the listener and drops every connection.
  ~RpcServer();

  NetAddress localAddress() const;
  // Accepts connections until the Task is destroyed. A failed accept is logged (rate
  // limited) and retried after a backoff; only a closed listener (kInvalidArgument) ends
  // serve(), by throwing it as a moonpool::Exception. Connections accepted stay served until
  // they end or the server is destroyed. One serve() at a time.
  Task<void> serve();

  std::size_t openConnections() const;
  std::uint64_t acceptedConnections() const;
  // Connections closed at once because every slot was busy (see admission above).
  std::uint64_t refusedConnections() const;
  // Connections closed to admit a newer one.
  std::uint64_t evictedConnections() const;
  std::uint64_t acceptErrors() const;
  std::uint64_t disconnects(DisconnectCause cause) const;

  struct Impl;

 private:
  explicit RpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class RpcClient {
 public:
  // Dials `address` and starts a two-party RPC connection on it.
  static Task<IoResult<std::unique_ptr<RpcClient>>> connect(NetworkProvider& network,
                                                            NetAddress address,
                                                            RpcOptions options = {});
  // The same over a connection the caller established.
  static IoResult<std::unique_ptr<RpcClient>> over(std::unique_ptr<Connection> connection,
                                                   RpcOptions options = {});
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;
  ~RpcClient();

  // The server's bootstrap capability; cast it: bootstrap().castAs<Echo>().
  ::capnp::Capability::Client bootstrap();
  // Completes when the connection has ended, with the reason.
  Task<DisconnectReport> disconnected();
  // True once the connection has failed or closed, as soon as this side has seen it (before
  // Cap'n Proto has failed the calls still on it).
  bool ended() const;
  NetAddress localAddress() const;
  NetAddress remoteAddress() const;

  struct Impl;

 private:
  explicit RpcClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moonpool::rpc
