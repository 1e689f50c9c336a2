// Internal state of the simulated network, shared by sim_network.cpp (streams, listeners,
// providers) and sim_network_faults.cpp (partitions, clogs, chaos episodes).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/internal/wait_list.h"
#include "moonpool/sim/sim_executor.h"
#include "moonpool/sim/sim_network.h"

namespace moonpool {

namespace internal {

using Path = std::pair<IpAddress, IpAddress>;  // (from ip, to ip)

// Bytes accepted by one write, in flight or waiting to be read.
struct Chunk {
  std::vector<std::byte> bytes;
  std::size_t offset = 0;  // bytes already read
  TimePoint deliverAt;
};

// One direction of a connection.
struct Pipe {
  IpAddress fromIp;
  IpAddress toIp;
  std::deque<Chunk> chunks;
  std::size_t unread = 0;
  TimePoint lastDeliverAt = kTimeZero;
  std::optional<TimePoint> finAt;  // end of stream once every chunk is read
  WaitList readers;
  WaitList writers;
};

// A connection: end 0 dialed, end 1 accepted. pipes[i] carries what end i writes.
struct Link {
  std::uint64_t id = 0;
  NetAddress address[2];
  Pipe pipes[2];
  bool reset = false;
  // Bit flips were on when it opened: only such links get flipped bits, and both ends report
  // it (Connection::corruptsBytes), so a protocol picks its framing once for the link.
  bool corruptible = false;
  std::string resetReason;
  bool writeShut[2] = {false, false};  // end i may not write any more
  bool closed[2] = {false, false};     // end i was destroyed or aborted
};

struct ListenerState {
  NetAddress address;
  std::size_t backlog = 1;
  std::deque<std::shared_ptr<Link>> pending;
  WaitList acceptors;
  WaitList space;
  bool closed = false;
};

}  // namespace internal

struct SimNetwork::State {
  State(SimExecutor& e, RandomProvider& r, Timeline& t, NetworkOptions o)
      : executor(e), random(r), timeline(t), options(std::move(o)) {}

  SimExecutor& executor;
  RandomProvider& random;
  Timeline& timeline;
  NetworkOptions options;

  std::map<NetAddress, std::shared_ptr<internal::ListenerState>> listeners;
  std::map<std::uint64_t, std::weak_ptr<internal::Link>> links;  // by id: deterministic order
  std::map<internal::Path, Duration> pairLatency;
  std::set<internal::Path> partitions;
  std::map<internal::Path, TimePoint> pathClogs;
  std::map<IpAddress, TimePoint> interfaceClogs;
  std::map<IpAddress, std::uint16_t> nextPort;
  std::uint64_t nextLinkId = 1;
  std::uint64_t bytesDelivered = 0;

  // A check failure when `faults` is out of range (constructor and setFaults).
  static void checkFaults(const NetworkOptions::Faults& faults);
  // Faults are drawn only when their probability is not zero.
  bool roll(Probability p) { return random.chance(p); }
  std::string pathName(const internal::Path& path) const;

  bool partitioned(IpAddress from, IpAddress to) const {
    return !partitions.empty() && partitions.count({from, to}) != 0;
  }
  // When traffic on the path may flow again (now or earlier when it is not clogged).
  TimePoint clogEnd(IpAddress from, IpAddress to) const;
  Duration pairDelay(IpAddress from, IpAddress to);
  // Clogs a path (or, with from == to == ip and kInterface, an interface) until now + d;
  // TimePoint::max() clogs until an explicit unclog.
  void clogPath(IpAddress from, IpAddress to, Duration duration);
  void clogInterfaceFor(IpAddress ip, Duration duration);
  void unclogInterface(IpAddress ip);
  std::uint16_t allocatePort(IpAddress ip);

  // Live links, in id order (expired entries are pruned).
  std::vector<std::shared_ptr<internal::Link>> liveLinks();
  void resetLink(internal::Link& link, std::string reason);
  // Wakes every reader and writer (after a heal or unclog they recheck their path).
  void wakeAll();
  // A new partition on `path`: each connection crossing it is reset with
  // partitionResetProbability, else it stalls until the heal.
  void onPartition(const internal::Path& path);
};

}  // namespace moonpool
