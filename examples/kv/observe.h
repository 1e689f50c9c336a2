// What the KV store tells the outside world: a log of notable events and counters
// (examples/kv).
//
// Service code never prints or reads a global: whoever starts a server or client passes an
// EventSink (the simulation writes to the Timeline's trace, kv_node to stderr) and may pass
// counters. Both are optional (null: nothing is recorded). Only notable events go to the
// sink (recoveries, truncations, corrupt frames, restarts), never one line per request, so
// a chaos run stays cheap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moonpool::kv {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // `who` is the node or client name, `kind` a short dotted tag ("kv.frame_corrupt").
  virtual void note(std::string_view who, std::string_view kind, const std::string& detail) = 0;
};

// Counts kept by servers and clients (sums over the whole run). Plain integers: one
// executor, no threads.
struct KvCounters {
  std::uint64_t putsAcked = 0;
  std::uint64_t getsOk = 0;
  std::uint64_t requestTimeouts = 0;     // client requests whose call timed out
  std::uint64_t maybeDelivered = 0;      // client requests failed "maybe delivered"
  std::uint64_t failFast = 0;            // client requests refused: the primary was failed
  // Sums of rpc::PeerStats over every peer of every server and client (added when the peer
  // goes away: a client's end, a server incarnation's end).
  std::uint64_t reconnects = 0;          // connections after a peer's first
  std::uint64_t resends = 0;             // idempotent calls sent again after a reconnect
  std::uint64_t peerFailures = 0;        // the failure monitor marked a peer failed
  std::uint64_t peerRecoveries = 0;      // ... and it answered again
  std::uint64_t callTimeouts = 0;        // calls (any peer) that reached their deadline
  std::uint64_t callsFailedFast = 0;     // calls (any peer) refused while their peer was failed
  std::uint64_t connectionsLost = 0;     // at-most-once calls whose connection broke
  std::uint64_t corruptFrames = 0;       // connections closed by checksummed framing
  std::uint64_t logTruncations = 0;
  std::uint64_t recoveries = 0;          // primary recoveries completed
  std::uint64_t entriesFetched = 0;      // entries a recovering primary adopted
  std::uint64_t backupCatchUps = 0;      // a backup that was behind reached the primary
  std::uint64_t peerCopies = 0;          // entries a backup copied from the other backup
  std::uint64_t localRestarts = 0;       // incarnations ended by a local storage failure
  std::uint64_t duplicatePuts = 0;       // PUTs answered from an existing entry
};

}  // namespace moonpool::kv
