// The heartbeat failure detector as processes of the simulated world, run by the simulation
// runner: the main job (examples/, everything public).
//
// Processes. K nodes ("node-1".."node-K", tag role=node, 10.0.1.N) talk over the simulated
// network. Each node listens on kHeartbeatPort, dials every peer and, on each connection,
// sends a heartbeat every `interval` (+-10 %), some of them as pings that the peer answers
// with a pong (round-trip time). A node suspects a peer after `suspectAfter` of silence
// (checked every `checkEvery`) and clears the suspicion when it hears from it again; it logs
// every suspicion with its time. Connections that fail are redialed.
//
// Faults. The chaos phase (HeartbeatOptions::simulated long) pauses nodes: attrition with
// pauses only (a paused process runs nothing; bytes sent to it wait; its own timers fire
// late), every pauseGap, for a draw from `pause`. The network has latencies in `latency`
// and a slow tail: a write clogs its path with probability slowProbability for up to
// slowMax. TCP-like streams do not lose messages, so the old link model's loss becomes this
// tail. Clocks do not drift (suspicion times are compared with pause times).
//
// Properties (checked by the "monitor" workload after the settle phase, from each node's
// suspicion log, queried over the network, and the world's timeline of pauses):
//   - completeness: a pause longer than detectionBound() is detected by every other node
//     that was not itself paused meanwhile, within detectionBound() of the pause start;
//   - recovery: after settling, no node suspects anyone.
// False suspicions (a running peer suspected by a running observer) and stale ones (by an
// observer that just woke up) are counted as metrics: the detector's accuracy cost.
#pragma once

#include <cstdint>

#include "heartbeat.h"
#include "moonpool/runner/builder.h"

namespace moonpool::examples {

inline constexpr std::uint16_t kHeartbeatPort = 9000;

// The simulation: options.nodes nodes and the monitor; chaosDuration = options.simulated.
SimulationBuilder heartbeatSimulation(HeartbeatOptions options);

}  // namespace moonpool::examples
