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
  std::uint64_t requestTimeouts = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t corruptFrames = 0;
  std::uint64_t logTruncations = 0;
  std::uint64_t recoveries = 0;          // primary recoveries completed
  std::uint64_t entriesFetched = 0;      // entries a recovering primary adopted
  std::uint64_t backupCatchUps = 0;      // a backup that was behind reached the primary
  std::uint64_t peerCopies = 0;          // entries a backup copied from the other backup
  std::uint64_t localRestarts = 0;       // incarnations ended by a local storage failure
  std::uint64_t duplicatePuts = 0;       // PUTs answered from an existing entry
};

}  // namespace moonpool::kv
