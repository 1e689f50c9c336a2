// The simulated network: streams, listeners and per-process providers (see sim_network.h).
// Partitions, clogs and chaos episodes are in sim_network_faults.cpp.
#include "moonpool/sim/sim_network.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "moonpool/combinators.h"
#include "sim_network_state.h"

namespace moonpool {

using internal::Chunk;
using internal::Link;
using internal::ListenerState;
using internal::Pipe;

namespace {

constexpr std::uint16_t kEphemeralPortFirst = 49152;
constexpr std::size_t kBacklogMax = 4096;

Task<void> waitOn(internal::WaitList& list, const char* what) { co_await list.wait(what); }
Task<void> sleepUntilTask(SimExecutor& executor, TimePoint when) {
  co_await executor.sleepUntil(when);
}

// Suspends until `list` is notified or `until` passes (no deadline when nullopt).
Task<void> waitUntil(SimExecutor& executor, internal::WaitList& list,
                     std::optional<TimePoint> until, const char* what) {
  if (!until) {
    co_await list.wait(what);
    co_return;
  }
  (void)co_await whenAny(waitOn(list, what), sleepUntilTask(executor, *until));
}

IoError resetError(const Link& link) { return IoError{IoErrorKind::kReset, link.resetReason}; }

class SimConnection final : public Connection {
 public:
  SimConnection(std::shared_ptr<SimNetwork::State> net, std::shared_ptr<Link> link, int end)
      : net_(std::move(net)), link_(std::move(link)), end_(end) {}
  SimConnection(const SimConnection&) = delete;
  SimConnection& operator=(const SimConnection&) = delete;
  ~SimConnection() override { closeGracefully(); }

  // implements Connection
  Task<IoResult<std::size_t>> read(std::span<std::byte> buffer) override;
  Task<IoResult<std::size_t>> write(std::span<const std::span<const std::byte>> pieces) override;
  IoResult<void> shutdownWrite() override;
  void abort() override;
  NetAddress localAddress() const override { return link_->address[end_]; }
  NetAddress remoteAddress() const override { return link_->address[1 - end_]; }
  bool corruptsBytes() const override { return link_->corruptible; }

 private:
  Pipe& inbound() { return link_->pipes[1 - end_]; }
  Pipe& outbound() { return link_->pipes[end_]; }
  // A random close (fault); true when it fired.
  bool maybeRandomClose();
  void sendFin(Pipe& pipe);
  void closeGracefully();
  std::size_t deliverable(Pipe& in, std::span<std::byte> buffer);
  void maybeFlipBits(Chunk& chunk);

  std::shared_ptr<SimNetwork::State> net_;
  std::shared_ptr<Link> link_;
  int end_;
};

void SimConnection::sendFin(Pipe& pipe) {
  if (pipe.finAt) return;
  pipe.finAt = std::max(net_->executor.now(), pipe.lastDeliverAt) + Duration(1);
  pipe.readers.notifyAll();
}

bool SimConnection::maybeRandomClose() {
  const auto& faults = net_->options.faults;
  if (link_->reset || !net_->roll(faults.randomCloseProbability)) return false;
  const std::string subject = link_->address[0].toString() + "<->" + link_->address[1].toString();
  if (net_->roll(faults.resetShare)) {
    net_->timeline.fault("net.random_reset", subject);
    net_->resetLink(*link_, "connection reset (injected random reset)");
    return true;
  }
  net_->timeline.fault("net.random_close", subject);
  for (int i = 0; i < 2; ++i) {
    link_->writeShut[i] = true;
    sendFin(link_->pipes[i]);
    link_->pipes[i].writers.notifyAll();
  }
  return true;
}

std::size_t SimConnection::deliverable(Pipe& in, std::span<std::byte> buffer) {
  Chunk& head = in.chunks.front();
  std::size_t n = std::min(buffer.size(), head.bytes.size() - head.offset);
  if (n > 1 && net_->roll(net_->options.faults.partialIoProbability)) {
    n = 1 + static_cast<std::size_t>(net_->random.below(n - 1));
    net_->timeline.fault("net.partial_read", net_->pathName({in.fromIp, in.toIp}),
                         std::to_string(n) + " bytes");
  }
  std::memcpy(buffer.data(), head.bytes.data() + head.offset, n);
  head.offset += n;
  if (head.offset == head.bytes.size()) in.chunks.pop_front();
  in.unread -= n;
  net_->bytesDelivered += n;
  in.writers.notifyAll();
  return n;
}

Task<IoResult<std::size_t>> SimConnection::read(std::span<std::byte> buffer) {
  MOONPOOL_CHECK(!buffer.empty(), "read() needs a non-empty buffer");
  for (;;) {
    if (link_->reset) co_return resetError(*link_);
    if (link_->closed[end_]) {
      co_return IoError{IoErrorKind::kInvalidArgument, "read on a closed connection"};
    }
    maybeRandomClose();
    if (link_->reset) continue;
    Pipe& in = inbound();
    const TimePoint now = net_->executor.now();
    if (in.chunks.empty() && !in.finAt) {
      co_await waitUntil(net_->executor, in.readers, std::nullopt, "a network read");
      continue;
    }
    if (net_->partitioned(in.fromIp, in.toIp)) {
      co_await waitUntil(net_->executor, in.readers, std::nullopt, "a partitioned read");
      continue;
    }
    const TimePoint readyAt =
        std::max(in.chunks.empty() ? *in.finAt : in.chunks.front().deliverAt,
                 net_->clogEnd(in.fromIp, in.toIp));
    if (readyAt > now) {
      co_await waitUntil(net_->executor, in.readers, readyAt, "a network read in flight");
      continue;
    }
    if (in.chunks.empty()) co_return std::size_t{0};  // end of stream
    co_return deliverable(in, buffer);
  }
}

void SimConnection::maybeFlipBits(Chunk& chunk) {
  const auto& faults = net_->options.faults;
  if (chunk.bytes.empty() || !link_->corruptible || !net_->roll(faults.bitFlipProbability)) {
    return;
  }
  // Power law: one bit half the time, two a quarter of the time, ...
  const auto draw = static_cast<std::uint32_t>(net_->random.nextU64());
  std::uint32_t flips = 1 + static_cast<std::uint32_t>(std::countl_zero(draw | 1u));
  flips = std::min({flips, std::max<std::uint32_t>(faults.bitFlipsMax, 1),
                    static_cast<std::uint32_t>(chunk.bytes.size() * 8)});
  for (std::uint32_t i = 0; i < flips; ++i) {
    const std::uint64_t bit = net_->random.below(chunk.bytes.size() * 8);
    chunk.bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  }
  Pipe& out = outbound();
  net_->timeline.fault("net.bit_flip", net_->pathName({out.fromIp, out.toIp}),
                       std::to_string(flips) + " bit(s) in a " +
                           std::to_string(chunk.bytes.size()) + "-byte chunk");
}

Task<IoResult<std::size_t>> SimConnection::write(
    std::span<const std::span<const std::byte>> pieces) {
  MOONPOOL_CHECK_LE(pieces.size(), kWritePiecesMax, "too many pieces in one vectored write");
  std::size_t total = 0;
  for (const auto& piece : pieces) total += piece.size();
  if (total == 0) co_return std::size_t{0};
  const auto& options = net_->options;
  for (;;) {
    if (link_->reset) co_return resetError(*link_);
    if (link_->closed[end_]) {
      co_return IoError{IoErrorKind::kInvalidArgument, "write on a closed connection"};
    }
    if (link_->writeShut[end_]) {
      co_return IoError{IoErrorKind::kBrokenPipe, "write after the sending side was shut down"};
    }
    if (link_->closed[1 - end_]) {
      co_return IoError{IoErrorKind::kBrokenPipe, "the peer closed the connection"};
    }
    if (maybeRandomClose()) continue;
    Pipe& out = outbound();
    if (out.unread >= options.sendBufferBytes) {
      co_await waitUntil(net_->executor, out.writers, std::nullopt, "a full send buffer");
      continue;
    }
    std::size_t n = std::min(total, options.sendBufferBytes - out.unread);
    if (n > 1 && net_->roll(options.faults.partialIoProbability)) {
      n = 1 + static_cast<std::size_t>(net_->random.below(n - 1));
      net_->timeline.fault("net.partial_write", net_->pathName({out.fromIp, out.toIp}),
                           std::to_string(n) + " of " + std::to_string(total) + " bytes");
    }
    Chunk chunk;
    chunk.bytes.reserve(n);
    for (const auto& piece : pieces) {
      const std::size_t take = std::min(piece.size(), n - chunk.bytes.size());
      chunk.bytes.insert(chunk.bytes.end(), piece.begin(), piece.begin() + static_cast<long>(take));
      if (chunk.bytes.size() == n) break;
    }
    maybeFlipBits(chunk);
    if (net_->roll(options.faults.clogProbability)) {
      net_->clogPath(out.fromIp, out.toIp,
                     net_->random.durationIn(options.faults.clog));
    }
    const TimePoint now = net_->executor.now();
    const Duration delay =
        options.latency.sample(net_->random) + net_->pairDelay(out.fromIp, out.toIp);
    chunk.deliverAt = std::max(now + delay, out.lastDeliverAt + Duration(1));
    out.lastDeliverAt = chunk.deliverAt;
    out.unread += n;
    out.chunks.push_back(std::move(chunk));
    out.readers.notifyAll();
    co_return n;
  }
}

IoResult<void> SimConnection::shutdownWrite() {
  if (link_->reset) return resetError(*link_);
  if (link_->closed[end_]) return IoError{IoErrorKind::kInvalidArgument, "connection closed"};
  link_->writeShut[end_] = true;
  sendFin(outbound());
  outbound().writers.notifyAll();
  return IoResult<void>();
}

void SimConnection::abort() {
  if (link_->closed[end_]) return;
  if (!link_->reset) {
    net_->resetLink(*link_, "connection reset by peer " + localAddress().toString());
  }
  link_->closed[end_] = true;
}

void SimConnection::closeGracefully() {
  if (link_->closed[end_]) return;
  link_->closed[end_] = true;
  if (link_->reset) return;
  link_->writeShut[end_] = true;
  sendFin(outbound());
  // Nobody will read what the peer sends from now on.
  Pipe& in = inbound();
  in.chunks.clear();
  in.unread = 0;
  in.writers.notifyAll();
}

// ---------------------------------------------------------------------------------------
// Listeners and providers.

class SimListener final : public Listener {
 public:
  SimListener(std::shared_ptr<SimNetwork::State> net, std::shared_ptr<ListenerState> state)
      : net_(std::move(net)), state_(std::move(state)) {}
  SimListener(const SimListener&) = delete;
  SimListener& operator=(const SimListener&) = delete;
  ~SimListener() override;

  // implements Listener
  Task<IoResult<std::unique_ptr<Connection>>> accept() override;
  NetAddress localAddress() const override { return state_->address; }

 private:
  std::shared_ptr<SimNetwork::State> net_;
  std::shared_ptr<ListenerState> state_;
};

SimListener::~SimListener() {
  if (state_->closed) return;
  state_->closed = true;
  net_->listeners.erase(state_->address);
  for (auto& link : state_->pending) net_->resetLink(*link, "listener closed before accept");
  state_->pending.clear();
  state_->space.notifyAll();
  state_->acceptors.notifyAll();
}

Task<IoResult<std::unique_ptr<Connection>>> SimListener::accept() {
  for (;;) {
    if (state_->closed) {
      co_return IoError{IoErrorKind::kInvalidArgument,
                        "listener " + state_->address.toString() + " is closed"};
    }
    if (!state_->pending.empty()) {
      std::shared_ptr<Link> link = std::move(state_->pending.front());
      state_->pending.pop_front();
      state_->space.notifyOne();
      co_return std::unique_ptr<Connection>(new SimConnection(net_, std::move(link), 1));
    }
    co_await state_->acceptors.wait("an accept");
  }
}

class SimNetworkProvider final : public NetworkProvider {
 public:
  SimNetworkProvider(std::shared_ptr<SimNetwork::State> net, IpAddress ip)
      : net_(std::move(net)), ip_(ip) {}

  // implements NetworkProvider
  IoResult<std::unique_ptr<Listener>> listen(NetAddress address, std::size_t backlog) override;
  Task<IoResult<std::unique_ptr<Connection>>> connect(NetAddress address) override;
  IpAddress localIp() const override { return ip_; }

 private:
  Task<IoResult<std::unique_ptr<Connection>>> fail(IoError error, Duration after);

  std::shared_ptr<SimNetwork::State> net_;
  IpAddress ip_;
};

IoResult<std::unique_ptr<Listener>> SimNetworkProvider::listen(NetAddress address,
                                                               std::size_t backlog) {
  if (backlog == 0 || backlog > kBacklogMax) {
    return IoError{IoErrorKind::kInvalidArgument,
                   "backlog must be 1.." + std::to_string(kBacklogMax)};
  }
  if (address.ip.isUnspecified()) address.ip = ip_;
  if (address.ip != ip_) {
    return IoError{IoErrorKind::kInvalidArgument, "cannot listen on " + address.toString() +
                                                      ": this process is " + ip_.toString()};
  }
  if (address.port == 0) address.port = net_->allocatePort(ip_);
  if (net_->listeners.count(address) != 0) {
    return IoError{IoErrorKind::kAddressInUse, address.toString() + " is already listening"};
  }
  auto state = std::make_shared<ListenerState>();
  state->address = address;
  state->backlog = backlog;
  net_->listeners.emplace(address, state);
  return std::unique_ptr<Listener>(new SimListener(net_, std::move(state)));
}

Task<IoResult<std::unique_ptr<Connection>>> SimNetworkProvider::fail(IoError error,
                                                                     Duration after) {
  co_await net_->executor.sleep(after);
  co_return error;
}

Task<IoResult<std::unique_ptr<Connection>>> SimNetworkProvider::connect(NetAddress address) {
  auto& net = *net_;
  const auto& faults = net.options.faults;
  const std::string subject = ip_.toString() + "->" + address.toString();
  if (address.ip.isUnspecified() || address.port == 0) {
    co_return IoError{IoErrorKind::kInvalidArgument, "cannot connect to " + address.toString()};
  }
  const TimePoint start = net.executor.now();
  if (net.roll(faults.connectRefuseProbability)) {
    net.timeline.fault("net.connect_refused", subject);
    co_return co_await fail(
        IoError{IoErrorKind::kRefused, address.toString() + " refused the connection (injected)"},
        net.options.connectLatency.sample(net.random));
  }
  if (net.roll(faults.connectHangProbability)) {
    net.timeline.fault("net.connect_hang", subject);
    co_return co_await fail(
        IoError{IoErrorKind::kTimedOut,
                "connect to " + address.toString() + " timed out (injected hang)"},
        net.options.connectTimeout);
  }
  co_await net.executor.sleep(net.options.connectLatency.sample(net.random) +
                              net.pairDelay(ip_, address.ip) + net.pairDelay(address.ip, ip_));
  if (net.partitioned(ip_, address.ip) || net.partitioned(address.ip, ip_)) {
    net.timeline.trace("net.connect_partitioned", subject);
    co_return co_await fail(
        IoError{IoErrorKind::kTimedOut, "connect to " + address.toString() +
                                            " timed out (no route: partitioned)"},
        std::max(Duration(0), net.options.connectTimeout - (net.executor.now() - start)));
  }
  for (;;) {
    auto found = net.listeners.find(address);
    if (found == net.listeners.end()) {
      co_return IoError{IoErrorKind::kRefused, "nothing listens at " + address.toString()};
    }
    std::shared_ptr<ListenerState> listener = found->second;
    if (listener->pending.size() >= listener->backlog) {
      co_await listener->space.wait("a full accept backlog");
      continue;
    }
    auto link = std::make_shared<Link>();
    link->id = net.nextLinkId++;
    link->address[0] = NetAddress{ip_, net.allocatePort(ip_)};
    link->address[1] = address;
    link->corruptible = net.options.faults.bitFlipProbability.value() > 0;
    link->pipes[0].fromIp = link->pipes[1].toIp = ip_;
    link->pipes[0].toIp = link->pipes[1].fromIp = address.ip;
    net.links.emplace(link->id, link);
    listener->pending.push_back(link);
    listener->acceptors.notifyOne();
    net.timeline.trace("net.connect", subject, "link #" + std::to_string(link->id));
    co_return std::unique_ptr<Connection>(new SimConnection(net_, std::move(link), 0));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// State helpers shared with sim_network_faults.cpp.

std::string SimNetwork::State::pathName(const internal::Path& path) const {
  return path.first.toString() + "->" + path.second.toString();
}

Duration SimNetwork::State::pairDelay(IpAddress from, IpAddress to) {
  if (options.pairLatencyMax <= Duration(0)) return Duration(0);
  auto [it, fresh] = pairLatency.try_emplace({from, to}, Duration(0));
  if (fresh) it->second = random.durationBetween(Duration(0), options.pairLatencyMax);
  return it->second;
}

std::uint16_t SimNetwork::State::allocatePort(IpAddress ip) {
  auto [it, fresh] = nextPort.try_emplace(ip, kEphemeralPortFirst);
  for (;;) {
    const std::uint16_t port = it->second;
    it->second = port == 65535 ? kEphemeralPortFirst : static_cast<std::uint16_t>(port + 1);
    if (listeners.count(NetAddress{ip, port}) == 0) return port;
  }
}

std::vector<std::shared_ptr<Link>> SimNetwork::State::liveLinks() {
  std::vector<std::shared_ptr<Link>> live;
  for (auto it = links.begin(); it != links.end();) {
    std::shared_ptr<Link> link = it->second.lock();
    if (!link || (link->closed[0] && link->closed[1])) {
      it = links.erase(it);
      continue;
    }
    live.push_back(std::move(link));
    ++it;
  }
  return live;
}

void SimNetwork::State::resetLink(Link& link, std::string reason) {
  if (link.reset) return;
  link.reset = true;
  link.resetReason = std::move(reason);
  for (Pipe& pipe : link.pipes) {
    pipe.chunks.clear();
    pipe.unread = 0;
    pipe.readers.notifyAll();
    pipe.writers.notifyAll();
  }
}

void SimNetwork::State::wakeAll() {
  for (auto& link : liveLinks()) {
    for (Pipe& pipe : link->pipes) {
      pipe.readers.notifyAll();
      pipe.writers.notifyAll();
    }
  }
}

// ---------------------------------------------------------------------------------------
// SimNetwork.

SimNetwork::SimNetwork(SimExecutor& executor, RandomProvider& random, Timeline& timeline,
                       NetworkOptions options)
    : state_(std::make_shared<State>(executor, random, timeline, std::move(options))) {
  MOONPOOL_CHECK_GT(state_->options.sendBufferBytes, std::size_t{0});
  State::checkFaults(state_->options.faults);
}

const NetworkOptions& SimNetwork::options() const { return state_->options; }

SimNetwork::~SimNetwork() = default;

std::unique_ptr<NetworkProvider> SimNetwork::providerFor(IpAddress ip) {
  MOONPOOL_CHECK(!ip.isUnspecified(), "a process needs an IP address");
  return std::make_unique<SimNetworkProvider>(state_, ip);
}

void SimNetwork::resetIp(IpAddress ip) {
  for (auto& link : state_->liveLinks()) {
    if (link->address[0].ip == ip || link->address[1].ip == ip) {
      state_->resetLink(*link, "connection reset: the process at " + ip.toString() +
                                   " went down");
    }
  }
  for (auto it = state_->listeners.begin(); it != state_->listeners.end();) {
    if (it->first.ip != ip) {
      ++it;
      continue;
    }
    ListenerState& listener = *it->second;
    listener.closed = true;
    for (auto& link : listener.pending) state_->resetLink(*link, "listener went down");
    listener.pending.clear();
    listener.space.notifyAll();
    listener.acceptors.notifyAll();
    it = state_->listeners.erase(it);
  }
}

std::size_t SimNetwork::openConnections() const { return state_->liveLinks().size(); }
std::uint64_t SimNetwork::bytesDelivered() const { return state_->bytesDelivered; }

}  // namespace moonpool
