// The simulated network: in-memory TCP-like streams between simulated processes, with the
// faults of real networks (runtime/ simulated world).
//
// Model. Each process gets a NetworkProvider bound to its IP (providerFor). A connection is
// a pair of ordered byte pipes. write() copies bytes into the outgoing pipe as one chunk
// stamped with a delivery time:
//     max(now + connection latency + pair latency, previous chunk's time + 1ns)
// so delivery is ordered and bandwidth-free; the reader sees a chunk once its time has come
// and the path is neither clogged nor partitioned. Each pipe holds at most sendBufferBytes
// unread bytes; a writer beyond that waits (backpressure), and write() may accept a prefix.
// Both ends know both addresses: the dialer gets an ephemeral port (49152+) on its own IP.
//
// Faults (NetworkOptions::Faults, all off in NetworkOptions::quiet()):
//   latency shapes       per connection, drawn at connect from `latency` (LatencyModel);
//   pair latency         each ordered IP pair draws a fixed extra latency at first contact;
//   clogging             a write may clog its (src, dst) path for a while: delivery waits;
//                        chaos() also clogs whole interfaces and runs swizzles (clog a random
//                        subset one by one, then unclog in another order);
//   partitions           directional or both ways, random (chaos()) or manual (partition(),
//                        heal()); a partitioned path delivers nothing, connect() across it
//                        times out, and each connection crossing a new partition is reset
//                        with probability partitionResetProbability (else it stalls until the
//                        heal, as TCP retransmission would);
//   random close         an I/O call may close its connection: gracefully (the peer reads
//                        end of stream) or by reset, and both sides see it;
//   connect faults       refused, or hanging until connectTimeout (kTimedOut);
//   partial I/O          a read or write may move fewer bytes than it could (never 0);
//   bit flips            a chunk may have 1..bitFlipsMax bits flipped, the count following a
//                        power law (1 bit is by far the most common); only on links opened
//                        while bit flips were on (Connection::corruptsBytes says so);
// Every fault is a draw from the counted main stream, made only when its probability is
// not zero (so a quiet network shifts no random stream), and is logged to the Timeline.
// Killing a process resets every connection it had, dialed or accepted (resetIp()), and
// closes its listeners: peers see kReset, never a silent hang.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "moonpool/network.h"
#include "moonpool/random.h"
#include "moonpool/sim/latency.h"
#include "moonpool/sim/timeline.h"
#include "moonpool/task.h"

namespace moonpool {

class SimExecutor;

struct NetworkOptions {
  LatencyModel connectLatency = LatencyModel::uniform(std::chrono::microseconds(500),
                                                      std::chrono::milliseconds(3));
  LatencyModel latency = LatencyModel::uniform(std::chrono::microseconds(50),
                                               std::chrono::microseconds(500));
  Duration pairLatencyMax{0};
  std::size_t sendBufferBytes = 64 * 1024;
  Duration connectTimeout = std::chrono::seconds(5);

  struct Faults {
    Probability clogProbability{};  // per write
    DurationRange clog{std::chrono::milliseconds(50), std::chrono::milliseconds(500)};
    Probability randomCloseProbability{};  // per read or write
    Probability resetShare{0.5};           // of random closes, the share that are resets
    Probability connectRefuseProbability{};
    Probability connectHangProbability{};
    Probability partialIoProbability{};  // per read or write
    Probability bitFlipProbability{};    // per chunk
    std::uint32_t bitFlipsMax = 32;
    Probability partitionResetProbability{0.5};
    // chaos(): every chaosInterval one episode (random partition, interface clog or
    // swizzle) with these weights, lasting episode.
    double partitionWeight = 0, interfaceClogWeight = 0, swizzleWeight = 0;
    DurationRange chaosInterval{std::chrono::seconds(1), std::chrono::seconds(5)};
    DurationRange episode{std::chrono::milliseconds(200), std::chrono::seconds(3)};
  };
  Faults faults;

  // No faults: tiny fixed latencies, every fault rate 0 (the network side of
  // WorldOptions::quiet()).
  static NetworkOptions quiet();
  // Every fault family on, with rates and latency shapes drawn from `config`.
  static NetworkOptions chaotic(RandomStream& config);
  // Swarm: this configuration with each fault family switched off with probability 1/2.
  NetworkOptions swarm(RandomStream& config) const;
  std::string toString() const;
};

class SimNetwork {
 public:
  SimNetwork(SimExecutor& executor, RandomProvider& random, Timeline& timeline,
             NetworkOptions options);
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;
  ~SimNetwork();

  // The provider a process at `ip` uses. It must not outlive this network.
  std::unique_ptr<NetworkProvider> providerFor(IpAddress ip);

  // Resets every connection with an end at `ip` and closes its listeners (a crash).
  void resetIp(IpAddress ip);

  // Manual faults. Directional: partition(a, b) stops traffic from a to b only.
  void partition(IpAddress from, IpAddress to);
  void partitionBoth(IpAddress a, IpAddress b);
  void heal(IpAddress from, IpAddress to);
  void healAll();
  bool partitioned(IpAddress from, IpAddress to) const;
  void clog(IpAddress from, IpAddress to, Duration duration);
  void clogInterface(IpAddress ip, Duration duration);

  // Replaces the fault rates from now on (a runner's settle phase switches them off with
  // setFaults({})). Latencies are unchanged.
  void setFaults(NetworkOptions::Faults faults);
  const NetworkOptions::Faults& faults() const;

  // Random partitions, interface clogs and swizzles among `ips` until `until`, then heals
  // everything it did. Spawn during a chaos phase.
  Task<void> chaos(std::vector<IpAddress> ips, TimePoint until);

  const NetworkOptions& options() const;
  std::size_t openConnections() const;
  std::uint64_t bytesDelivered() const;

  struct State;  // shared with connections and listeners (defined in sim_network.cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace moonpool
