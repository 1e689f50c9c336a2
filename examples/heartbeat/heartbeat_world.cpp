// The heartbeat failure detector on the simulated world (see heartbeat_world.h).
//
// Wire format (little-endian): every frame is 13 bytes, kind (1), sender's node index (4),
// a time in ns (8): heartbeats and pings carry their send time, pongs echo the ping's.
// A query ('Q') is answered with a report: 'R', entry count (4), round-trip max ns (8),
// round-trip samples (8), current-suspicion bitmask (8), then per entry: peer (4),
// suspected (1), time ns (8).
#include "heartbeat_world.h"

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/assertions.h"

namespace moonpool::examples {
namespace {

enum class Kind : char { kHeartbeat = 'H', kPing = 'P', kPong = 'O', kQuery = 'Q', kReport = 'R' };

constexpr std::size_t kFrameBytes = 13;
constexpr std::size_t kReportHeaderBytes = 29;
constexpr std::size_t kEntryBytes = 13;
// A node's suspicion log is bounded; reaching the bound is a check failure (it means the
// detector flaps far more than any configuration here should make it).
constexpr std::size_t kLogMax = 100'000;
constexpr Duration kRedialDelay = std::chrono::milliseconds(100);
constexpr std::size_t kBacklog = 64;

using Frame = std::array<std::byte, kFrameBytes>;

void putU64(std::byte* at, std::uint64_t value) { std::memcpy(at, &value, sizeof value); }
void putU32(std::byte* at, std::uint32_t value) { std::memcpy(at, &value, sizeof value); }
std::uint64_t getU64(const std::byte* at) {
  std::uint64_t value = 0;
  std::memcpy(&value, at, sizeof value);
  return value;
}
std::uint32_t getU32(const std::byte* at) {
  std::uint32_t value = 0;
  std::memcpy(&value, at, sizeof value);
  return value;
}

Frame frame(Kind kind, int from, TimePoint time) {
  Frame out{};
  out[0] = static_cast<std::byte>(kind);
  putU32(out.data() + 1, static_cast<std::uint32_t>(from));
  putU64(out.data() + 5, static_cast<std::uint64_t>(time.time_since_epoch().count()));
  return out;
}

TimePoint frameTime(const Frame& f) {
  return TimePoint(Duration(static_cast<Duration::rep>(getU64(f.data() + 5))));
}

struct LogEntry {
  int peer = 0;
  bool suspected = false;
  TimePoint at;
};

// One boot of a node; shared by its tasks, so it outlives whichever is cancelled last.
struct NodeState {
  NodeState(Providers p, HeartbeatOptions o, int self, std::vector<IpAddress> ips)
      : providers(p),
        options(o),
        id(self),
        peerIps(std::move(ips)),
        lastHeard(peerIps.size(), p.time().now()),
        suspected(peerIps.size(), false) {}

  Providers providers;
  HeartbeatOptions options;
  int id;
  std::vector<IpAddress> peerIps;  // by node index
  std::vector<TimePoint> lastHeard;
  std::vector<bool> suspected;
  std::vector<LogEntry> log;
  Duration rttMax{0};
  std::uint64_t rttSamples = 0;

  void note(int peer, bool suspect) {
    MOONPOOL_CHECK_LT(log.size(), kLogMax, "a node's suspicion log overflowed");
    suspected[static_cast<std::size_t>(peer)] = suspect;
    log.push_back(LogEntry{peer, suspect, providers.time().now()});
  }
  void heard(int peer) {
    MOONPOOL_CHECK(peer >= 0 && static_cast<std::size_t>(peer) < peerIps.size(), "bad sender");
    lastHeard[static_cast<std::size_t>(peer)] = providers.time().now();
    if (suspected[static_cast<std::size_t>(peer)]) note(peer, false);
  }
};

std::string report(const NodeState& s) {
  std::string out(kReportHeaderBytes + s.log.size() * kEntryBytes, '\0');
  auto* at = reinterpret_cast<std::byte*>(out.data());
  at[0] = static_cast<std::byte>(Kind::kReport);
  putU32(at + 1, static_cast<std::uint32_t>(s.log.size()));
  putU64(at + 5, static_cast<std::uint64_t>(s.rttMax.count()));
  putU64(at + 13, s.rttSamples);
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < s.suspected.size(); ++i) mask |= s.suspected[i] ? 1ull << i : 0;
  putU64(at + 21, mask);
  at += kReportHeaderBytes;
  for (const LogEntry& e : s.log) {
    putU32(at, static_cast<std::uint32_t>(e.peer));
    at[4] = static_cast<std::byte>(e.suspected ? 1 : 0);
    putU64(at + 5, static_cast<std::uint64_t>(e.at.time_since_epoch().count()));
    at += kEntryBytes;
  }
  return out;
}

// One inbound connection: heartbeats and pings from a peer, or the monitor's query.
Task<void> serveInbound(std::shared_ptr<NodeState> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    Frame in{};
    if (!(co_await connection->readExactly(in)).ok()) co_return;
    const auto kind = static_cast<Kind>(in[0]);
    if (kind == Kind::kQuery) {
      const std::string out = report(*s);
      if (!(co_await connection->writeAll(asBytes(out))).ok()) co_return;
      continue;
    }
    s->heard(static_cast<int>(getU32(in.data() + 1)));
    if (kind == Kind::kPing) {
      const Frame pong = frame(Kind::kPong, s->id, frameTime(in));
      if (!(co_await connection->writeAll(pong)).ok()) co_return;
    }
  }
}

Task<void> acceptLoop(std::shared_ptr<NodeState> s, std::unique_ptr<Listener> listener) {
  for (;;) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await listener->accept();
    if (!accepted.ok()) co_return;
    s->providers.tasks().spawn("inbound", serveInbound(s, std::move(accepted).orThrow())).detach();
  }
}

Task<void> readPongs(std::shared_ptr<NodeState> s, Connection* connection) {
  for (;;) {
    Frame in{};
    if (!(co_await connection->readExactly(in)).ok()) co_return;
    const Duration rtt = s->providers.time().now() - frameTime(in);
    MOONPOOL_SOMETIMES_GT(std::chrono::duration_cast<std::chrono::milliseconds>(rtt).count(), 1000,
                          "a ping round trip takes over a second (a paused peer)");
    s->rttMax = std::max(s->rttMax, rtt);
    ++s->rttSamples;
    s->heard(static_cast<int>(getU32(in.data() + 1)));
  }
}

// One outgoing connection to `peer`, beating until it fails.
Task<void> session(std::shared_ptr<NodeState> s, int peer) {
  TimeProvider& time = s->providers.time();
  RandomProvider& random = s->providers.random();
  IoResult<std::unique_ptr<Connection>> dialed = co_await s->providers.network().connect(
      NetAddress{s->peerIps[static_cast<std::size_t>(peer)], kHeartbeatPort});
  if (!dialed.ok()) {
    co_await time.sleep(kRedialDelay);
    co_return;
  }
  std::unique_ptr<Connection> connection = std::move(dialed).orThrow();
  // Declared after the connection: dropped (cancelled) before it is destroyed.
  JoinHandle<void> pongs = s->providers.tasks().spawn("pongs", readPongs(s, connection.get()));
  const Duration interval = s->options.interval;
  const auto peers = static_cast<std::uint64_t>(s->peerIps.size() - 1);
  for (;;) {
    // One beat in (peers) is a ping: each node pings about one peer per interval.
    const Kind kind = random.below(peers) == 0 ? Kind::kPing : Kind::kHeartbeat;
    const Frame out = frame(kind, s->id, time.now());
    if (!(co_await connection->writeAll(out)).ok()) co_return;
    // +-10% jitter keeps nodes from beating in lockstep.
    co_await time.sleep(random.durationBetween(interval * 9 / 10, interval * 11 / 10));
  }
}

Task<void> sendLoop(std::shared_ptr<NodeState> s, int peer) {
  for (;;) co_await session(s, peer);
}

Task<void> detectLoop(std::shared_ptr<NodeState> s) {
  TimeProvider& time = s->providers.time();
  for (;;) {
    co_await time.sleep(s->options.checkEvery);
    for (std::size_t peer = 0; peer < s->peerIps.size(); ++peer) {
      if (static_cast<int>(peer) == s->id || s->suspected[peer]) continue;
      if (time.now() - s->lastHeard[peer] > s->options.suspectAfter) {
        s->note(static_cast<int>(peer), true);
      }
    }
  }
}

// Node IPs by index: the processes tagged role=node, in process order ("node-1" first).
std::vector<IpAddress> nodeIps(const std::vector<ProcessInfo>& peers) {
  std::vector<IpAddress> out;
  for (const ProcessInfo& p : peers) {
    auto role = p.tags.find("role");
    if (role != p.tags.end() && role->second == "node") out.push_back(p.ip);
  }
  return out;
}

Task<void> runNode(Providers p, IpAddress ip, std::vector<IpAddress> ips,
                   HeartbeatOptions options) {
  int self = -1;
  for (std::size_t i = 0; i < ips.size(); ++i) {
    if (ips[i] == ip) self = static_cast<int>(i);
  }
  MOONPOOL_CHECK_GE(self, 0, "a node must be among the nodes");
  auto s = std::make_shared<NodeState>(p, options, self, std::move(ips));
  std::unique_ptr<Listener> listener =
      p.network().listen(NetAddress{ip, kHeartbeatPort}, kBacklog).orThrow();
  p.tasks().spawn("accept", acceptLoop(s, std::move(listener))).detach();
  for (std::size_t peer = 0; peer < s->peerIps.size(); ++peer) {
    if (static_cast<int>(peer) == self) continue;
    p.tasks()
        .spawn("beat-" + std::to_string(peer + 1), sendLoop(s, static_cast<int>(peer)))
        .detach();
  }
  co_await detectLoop(s);
}

struct NodeMain {
  HeartbeatOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return runNode(ctx.providers(), ctx.ip(), nodeIps(ctx.peers()), options);
  }
};

// ---- the monitor -----------------------------------------------------------------------------

struct NodeReport {
  std::vector<LogEntry> log;
  std::uint64_t suspecting = 0;  // bitmask of peers suspected now
  Duration rttMax{0};
  std::uint64_t rttSamples = 0;
};

Task<NodeReport> query(Providers p, IpAddress ip) {
  std::unique_ptr<Connection> c =
      (co_await p.network().connect(NetAddress{ip, kHeartbeatPort})).orThrow();
  (co_await c->writeAll(frame(Kind::kQuery, -1, p.time().now()))).orThrow();
  std::array<std::byte, kReportHeaderBytes> header{};
  (co_await c->readExactly(header)).orThrow();
  MOONPOOL_CHECK(header[0] == static_cast<std::byte>(Kind::kReport), "a query gets a report");
  NodeReport out;
  const std::uint32_t count = getU32(header.data() + 1);
  MOONPOOL_CHECK_LE(count, kLogMax);
  out.rttMax = Duration(static_cast<Duration::rep>(getU64(header.data() + 5)));
  out.rttSamples = getU64(header.data() + 13);
  out.suspecting = getU64(header.data() + 21);
  std::vector<std::byte> entries(std::size_t{count} * kEntryBytes);
  if (!entries.empty()) (co_await c->readExactly(entries)).orThrow();
  for (std::size_t i = 0; i < count; ++i) {
    const std::byte* e = entries.data() + i * kEntryBytes;
    out.log.push_back(LogEntry{static_cast<int>(getU32(e)), e[4] != std::byte{0},
                               TimePoint(Duration(static_cast<Duration::rep>(getU64(e + 5))))});
  }
  co_return out;
}

struct Pause {
  int node = 0;
  TimePoint start;
  TimePoint end;
};

// Pauses of node processes, from the world's fault timeline.
std::vector<Pause> pausesOf(const Timeline& timeline, TimePoint now) {
  std::vector<Pause> out;
  std::map<int, std::size_t> open;
  for (const TimelineEvent& e : timeline.events()) {
    if (e.subject.rfind("node-", 0) != 0) continue;
    const int node = std::stoi(e.subject.substr(5)) - 1;
    if (e.kind == "process.pause") {
      open[node] = out.size();
      out.push_back(Pause{node, e.time, now});
    } else if (e.kind == "process.resume" && open.count(node) != 0) {
      out[open[node]].end = e.time;
      open.erase(node);
    }
  }
  return out;
}

bool pausedDuring(const std::vector<Pause>& pauses, int node, TimePoint from, TimePoint to) {
  for (const Pause& p : pauses) {
    if (p.node == node && p.start <= to && p.end >= from) return true;
  }
  return false;
}

// When `observer` first suspected `suspect` during [from, to]: at `from` if it already did.
std::optional<TimePoint> suspicionTime(const NodeReport& observer, int suspect, TimePoint from,
                                       TimePoint to) {
  bool suspectedAtFrom = false;
  for (const LogEntry& e : observer.log) {
    if (e.peer != suspect) continue;
    if (e.at <= from) {
      suspectedAtFrom = e.suspected;
      continue;
    }
    if (suspectedAtFrom) return from;
    if (e.at > to) break;
    if (e.suspected) return e.at;
  }
  if (suspectedAtFrom) return from;
  return std::nullopt;
}

long long millis(Duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// Completeness: every detectable pause detected by every observer not paused meanwhile.
void checkPauses(WorkloadContext& ctx, const HeartbeatOptions& o, const std::vector<Pause>& pauses,
                 const std::vector<NodeReport>& nodes, CheckResult& result) {
  const Duration bound = detectionBound(o);
  for (const Pause& pause : pauses) {
    MOONPOOL_SOMETIMES_EACH(
        "pause length (whole seconds)",
        std::chrono::duration_cast<std::chrono::seconds>(pause.end - pause.start).count());
    ctx.addMetric("pauses", 1);
    if (pause.end - pause.start <= bound) continue;
    ctx.addMetric("pauses detectable", 1);
    for (std::size_t observer = 0; observer < nodes.size(); ++observer) {
      const int who = static_cast<int>(observer);
      if (who == pause.node || pausedDuring(pauses, who, pause.start, pause.start + bound))
        continue;
      const std::optional<TimePoint> at =
          suspicionTime(nodes[observer], pause.node, pause.start, pause.end);
      MOONPOOL_SOMETIMES(at.has_value(), "a paused node is suspected");
      const bool inTime = at && *at - pause.start <= bound;
      MOONPOOL_ALWAYS(inTime, "every other node detects a detectable pause within the bound");
      if (!inTime) {
        result.violations.push_back("node " + std::to_string(observer + 1) +
                                    " did not suspect node " + std::to_string(pause.node + 1) +
                                    " within " + formatDuration(bound) + " of its pause at " +
                                    formatTime(pause.start) + " (paused until " +
                                    formatTime(pause.end) + ")");
        continue;
      }
      ctx.addMetric("detections", 1);
      ctx.addMetric("detection latency sum (ms)", millis(*at - pause.start));
      ctx.maxMetric("detection latency max (ms)", millis(*at - pause.start));
    }
  }
}

// Accuracy (metrics only) and recovery (a violation).
void checkSuspicions(WorkloadContext& ctx, const HeartbeatOptions& o,
                     const std::vector<Pause>& pauses, const std::vector<NodeReport>& nodes,
                     CheckResult& result) {
  const Duration bound = detectionBound(o);
  for (std::size_t observer = 0; observer < nodes.size(); ++observer) {
    const NodeReport& n = nodes[observer];
    ctx.maxMetric("ping rtt max (ms)", millis(n.rttMax));
    ctx.addMetric("ping rtt samples", static_cast<std::int64_t>(n.rttSamples));
    for (const LogEntry& e : n.log) {
      if (!e.suspected) continue;
      if (pausedDuring(pauses, static_cast<int>(observer), e.at - bound, e.at)) {
        ctx.addMetric("suspicions stale (observer woke up)", 1);
      } else if (!pausedDuring(pauses, e.peer, e.at - bound, e.at)) {
        ctx.addMetric("suspicions false", 1);
      }
    }
    for (std::size_t peer = 0; peer < nodes.size(); ++peer) {
      if ((n.suspecting >> peer & 1) == 0) continue;
      result.violations.push_back("node " + std::to_string(observer + 1) + " still suspects node " +
                                  std::to_string(peer + 1) + " after settling");
    }
  }
}

Task<void> monitorRun(WorkloadContext& ctx) { co_await ctx.chaosOver().wait(); }

Task<CheckResult> monitorCheck(WorkloadContext& ctx, HeartbeatOptions options) {
  const std::vector<IpAddress> ips = nodeIps(ctx.process().peers());
  std::vector<NodeReport> nodes;
  for (IpAddress ip : ips) nodes.push_back(co_await query(ctx.providers(), ip));
  const std::vector<Pause> pauses = pausesOf(ctx.timeline(), ctx.providers().time().now());
  CheckResult result;
  checkPauses(ctx, options, pauses, nodes, result);
  checkSuspicions(ctx, options, pauses, nodes, result);
  co_return result;
}

struct MonitorCheck {
  HeartbeatOptions options;
  [[clang::coro_wrapper]] Task<CheckResult> operator()(WorkloadContext& ctx) const {
    return monitorCheck(ctx, options);
  }
};

ChaosOptions chaosFor(const HeartbeatOptions& o) {
  NetworkOptions network = NetworkOptions::quiet();
  network.connectLatency = LatencyModel::uniform(o.latency.min, o.latency.max);
  network.latency = LatencyModel::uniform(o.latency.min, o.latency.max);
  network.faults.clogProbability = o.slowProbability;
  network.faults.clog = {std::chrono::milliseconds(1), o.slowMax};
  AttritionOptions pauses;
  pauses.deadMax = 0;  // no reboots: pauses only
  pauses.pauseProbability = Probability{1.0};
  pauses.pause = o.pause;
  pauses.interval = o.pauseGap;
  return ChaosOptions{.network = FaultProfile::kGiven,
                      .givenNetwork = network,
                      .storage = FaultProfile::kQuiet,
                      .attrition = Attrition::kOn,
                      .attritionOptions = pauses,
                      .clock = ClockDriftOptions{.offsetMax = Duration{0}, .ppmMax = 0}};
}

}  // namespace

SimulationBuilder heartbeatSimulation(HeartbeatOptions options) {
  MOONPOOL_CHECK(options.nodes >= 2 && options.nodes <= HeartbeatOptions::kNodesMax,
                 "nodes out of range");
  // After the chaos phase every node runs normally for a detection bound plus a beat, so no
  // suspicion may survive (the recovery property).
  const Duration settle =
      detectionBound(options) + options.interval * 11 / 10 + std::chrono::seconds(1);
  SimulationBuilder builder("heartbeat");
  builder
      .processes(static_cast<std::size_t>(options.nodes), "node", NodeMain{options},
                 {{"role", "node"}})
      .workload(Workload{.name = "monitor",
                         .run = monitorRun,
                         .check = MonitorCheck{options},
                         .tags = {{"role", "monitor"}}})
      .chaos(chaosFor(options))
      .chaosDuration(options.simulated)
      .settleDuration(settle);
  return builder;
}

}  // namespace moonpool::examples
