// A heartbeat failure detector on a small cluster, written against moonpool providers only.
//
// Every node sends a heartbeat to every peer each `interval` and pings one random peer
// (round-trip time). A node suspects a peer after `suspectAfter` of silence and clears the
// suspicion when the peer is heard again. Messages travel over `Links`: an in-process link
// layer with random latency, loss and a slow tail. This in-process model stays for unit
// tests and benchmarks; the main job runs the same detector as processes of the simulated
// world (heartbeat_world.h).
//
// Faults: a pauser freezes one node at a time for a random while (a GC-pause-like fault: the
// node neither sends nor processes, its inbox fills up).
//
// Properties checked per seed (SeedStats::violations):
//   - completeness: a pause longer than detectionBound() is detected by every other node
//     within detectionBound() of the pause start;
//   - recovery: at the end, no node suspects a peer that has been running normally for
//     longer than detectionBound() + interval.
// False suspicions (a running peer suspected by a running observer, because of loss and the
// slow tail) and stale suspicions (an observer that just woke from its own pause) are
// counted: they are the detector's accuracy cost, not violations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moonpool/providers.h"
#include "moonpool/random.h"
#include "moonpool/time.h"

namespace moonpool::examples {

using namespace std::chrono_literals;

struct HeartbeatOptions {
  int nodes = 5;
  Duration simulated = 300s;
  Duration interval = 1s;
  Duration suspectAfter = 3s;
  Duration checkEvery = 250ms;
  DurationRange latency{1ms, 50ms};
  Probability lossProbability{0.01};
  Probability slowProbability{0.002};
  Duration slowMax = 2s;
  DurationRange pause{1s, 10s};     // how long a pause lasts
  DurationRange pauseGap{5s, 30s};  // between pauses

  // Inbox bound per node; a message arriving at a full inbox is dropped and counted.
  static constexpr std::size_t kInboxMax = 4096;
  static constexpr int kNodesMax = 64;
};

struct SeedStats {
  std::uint64_t messagesSent = 0;
  std::uint64_t messagesDropped = 0;
  std::uint64_t messagesDelivered = 0;
  std::uint64_t inboxOverflows = 0;
  std::uint64_t pauses = 0;
  std::uint64_t detectablePauses = 0;
  std::uint64_t detections = 0;
  std::uint64_t falseSuspicions = 0;
  std::uint64_t staleSuspicions = 0;
  Duration detectionLatencyMax{0};
  Duration detectionLatencySum{0};
  std::uint64_t rttSamples = 0;
  Duration rttMax{0};
  Duration rttSum{0};
  std::vector<std::string> violations;
};

// suspectAfter + latency.max + slowMax + checkEvery: the latest a pause can be detected.
// The last message a node sent before pausing may arrive up to latency.max + slowMax later;
// silence is measured from it, and the detector looks every checkEvery. (Inline: both
// heartbeat libraries use it, and neither should pull in the other's assertion sites.)
inline Duration detectionBound(const HeartbeatOptions& o) {
  return o.suspectAfter + o.latency.max + o.slowMax + o.checkEvery;
}

// Runs the cluster for options.simulated and returns what happened. Deterministic for a given
// seed of the providers. Options are checked (nodes in [2, kNodesMax], ranges ordered).
Task<SeedStats> runHeartbeatCluster(Providers providers, HeartbeatOptions options);

}  // namespace moonpool::examples
