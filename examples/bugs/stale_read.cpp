// Bug 2 of the corpus: a stale read from a lagging replica whose lease is judged on the
// wrong clock (examples/bugs).
//
// Protocol. A primary ("primary-1") holds a versioned register; a replica ("replica-1")
// serves reads while it holds a read lease from the primary. The replica asks for a lease
// every kLease / 4; the primary grants it for kLease from the grant on its own clock,
// sending its current version with the grant. A write is acknowledged once the replica has
// acknowledged the new version or, when it cannot be reached, once every lease the primary
// granted has run out (the replica then refuses reads). A Mutex serializes writes and
// grants at the primary, so no lease is granted behind a write in flight.
//
// The planted mistake (--variant=buggy): the grant carries its expiry as a time on the
// primary's clock, and the replica compares that number with its own clock. Each machine's
// clock has its own offset (up to 100 ms here), so a replica whose clock runs behind keeps
// serving after the primary has given up on it and acknowledged a write it never saw.
// Fixed: the replica times its lease from when it asked, on its own clock, minus a margin
// for rate drift. Fault: a partition between primary and replica while a write is in
// flight, on a seed whose replica clock is behind.
//
// Client: write version n (retrying until acknowledged), then read at the replica. Property:
// a read that starts after version n was acknowledged returns n or later.
#include <cstdint>
#include <memory>
#include <optional>

#include "bug_main.h"
#include "moonpool/assertions.h"
#include "moonpool/runner/workload.h"
#include "moonpool/sync.h"
#include "wire.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::uint16_t kPrimaryPort = 7100;
constexpr std::uint16_t kReplicaPort = 7101;
constexpr Duration kLease = std::chrono::seconds(1);
// Covers the rate drift of two clocks (200 ppm each) over a lease, with room to spare.
constexpr Duration kDriftMargin = kLease / 100;
constexpr Duration kRequestTimeout = std::chrono::seconds(2);
constexpr Duration kRetryDelay = std::chrono::milliseconds(50);
constexpr char kWrite = 'W', kLeaseRequest = 'L', kUpdate = 'U', kRead = 'R';

std::int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint at(std::uint64_t ns) { return TimePoint(Duration(static_cast<Duration::rep>(ns))); }

// ---- primary ---------------------------------------------------------------------------------

struct Primary {
  explicit Primary(Providers p) : providers(p) {}
  Providers providers;
  std::uint64_t version = 0;
  TimePoint leaseUntil{};  // the latest lease granted ends here (own clock)
  std::unique_ptr<Connection> toReplica{};
  NetAddress replica{};
  Mutex mutex{};
};

// Sends `version` to the replica; true once it acknowledged.
Task<bool> replicate(Primary& s, std::uint64_t version) {
  if (!s.toReplica) s.toReplica = co_await dial(s.providers.network(), s.replica);
  if (!s.toReplica) co_return false;
  std::optional<std::string> ack =
      co_await call(*s.toReplica, Record().u8(kUpdate).u64(version).bytes());
  if (!ack) s.toReplica.reset();
  co_return ack.has_value();
}

Task<void> write(Primary& s, std::uint64_t version) {
  Mutex::Guard guard = co_await s.mutex.lock();
  s.version = std::max(s.version, version);
  TimeProvider& time = s.providers.time();
  if (time.now() >= s.leaseUntil) co_return;  // no replica may serve: nothing to wait for
  std::optional<bool> acked = co_await tryWithin(time, s.leaseUntil - time.now(),
                                                 replicate(s, s.version));
  if (acked.value_or(false)) co_return;
  MOONPOOL_REACHABLE("a write waits out the replica's lease");
  s.toReplica.reset();  // a late ack must not answer the next update
  co_await time.sleepUntil(s.leaseUntil);
}

Task<void> servePrimary(std::shared_ptr<Primary> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request) co_return;
    Reader r(*request);
    const char op = static_cast<char>(r.u8());
    const std::uint64_t version = r.u64();
    if (r.failed()) co_return;
    std::string answer;
    if (op == kWrite) {
      co_await write(*s, version);
      answer = Record().u8('K').bytes();
    } else if (op == kLeaseRequest) {
      Mutex::Guard guard = co_await s->mutex.lock();
      const TimePoint until = s->providers.time().now() + kLease;
      s->leaseUntil = std::max(s->leaseUntil, until);
      answer = Record().u8('G').u64(static_cast<std::uint64_t>(ns(until))).u64(s->version).bytes();
    } else {
      co_return;
    }
    if (!(co_await writeFrame(*connection, answer)).ok()) co_return;
  }
}

struct PrimaryHandler {
  std::shared_ptr<Primary> primary;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> c) const {
    return servePrimary(primary, std::move(c));
  }
};

Task<void> runPrimary(Providers p, IpAddress replicaIp) {
  auto s = std::make_shared<Primary>(p);
  s->replica = NetAddress{replicaIp, kReplicaPort};
  co_await serve(p, kPrimaryPort, PrimaryHandler{s});
}

// ---- replica ---------------------------------------------------------------------------------

struct Replica {
  Replica(Providers p, Variant v) : providers(p), variant(v) {}
  Providers providers;
  Variant variant;
  std::uint64_t version = 0;
  TimePoint leaseUntil{};  // as this replica judges it, on its own clock
};

// One lease request; the connection is dropped when it fails.
Task<void> renewOnce(Replica& s, NetAddress primary, std::unique_ptr<Connection>& connection) {
  TimeProvider& time = s.providers.time();
  if (!connection) connection = co_await dial(s.providers.network(), primary);
  if (!connection) co_return;
  const TimePoint asked = time.now();
  std::optional<std::optional<std::string>> grant = co_await tryWithin(
      time, kRequestTimeout, call(*connection, Record().u8(kLeaseRequest).u64(0).bytes()));
  const std::string reply = grant && *grant ? **grant : std::string();
  Reader r(reply);
  const char kind = static_cast<char>(r.u8());
  const std::uint64_t expiry = r.u64();
  const std::uint64_t version = r.u64();
  if (r.failed() || kind != 'G') {
    connection.reset();
    co_return;
  }
  s.version = std::max(s.version, version);
  // The mistake: the primary's clock reading compared with ours.
  const TimePoint until =
      s.variant == Variant::kBuggy ? at(expiry) : asked + kLease - kDriftMargin;
  s.leaseUntil = std::max(s.leaseUntil, until);
}

Task<void> renewLeases(std::shared_ptr<Replica> s, NetAddress primary) {
  std::unique_ptr<Connection> connection;
  for (;;) {
    co_await renewOnce(*s, primary, connection);
    co_await s->providers.time().sleep(kLease / 4);
  }
}

Task<void> serveReplica(std::shared_ptr<Replica> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request) co_return;
    Reader r(*request);
    const char op = static_cast<char>(r.u8());
    const std::uint64_t version = r.u64();
    if (r.failed() || (op != kUpdate && op != kRead)) co_return;
    if (op == kUpdate) s->version = std::max(s->version, version);
    const bool leased = s->providers.time().now() < s->leaseUntil;
    const std::string answer = Record().u8(leased ? 1 : 0).u64(s->version).bytes();
    if (!(co_await writeFrame(*connection, answer)).ok()) co_return;
  }
}

struct ReplicaHandler {
  std::shared_ptr<Replica> replica;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> c) const {
    return serveReplica(replica, std::move(c));
  }
};

Task<void> runReplica(Providers p, Variant variant, IpAddress primaryIp) {
  auto s = std::make_shared<Replica>(p, variant);
  p.tasks().spawn("lease", renewLeases(s, NetAddress{primaryIp, kPrimaryPort})).detach();
  co_await serve(p, kReplicaPort, ReplicaHandler{s});
}

struct ServerMain {
  Variant variant;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    if (ctx.name() == "primary-1") {
      return runPrimary(ctx.providers(), ipOf(ctx.peers(), "replica-1"));
    }
    return runReplica(ctx.providers(), variant, ipOf(ctx.peers(), "primary-1"));
  }
};

// ---- client ----------------------------------------------------------------------------------

// One request with a timeout on a connection kept across calls; nothing on any failure.
Task<std::optional<std::string>> ask(Providers p, NetAddress to,
                                     std::unique_ptr<Connection>& connection, std::string request) {
  if (!connection) connection = co_await dial(p.network(), to);
  if (!connection) co_return std::nullopt;
  std::optional<std::optional<std::string>> answer =
      co_await tryWithin(p.time(), kRequestTimeout, call(*connection, std::move(request)));
  if (!answer || !*answer) {
    connection.reset();
    co_return std::nullopt;
  }
  co_return std::move(**answer);
}

Task<void> runClient(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  const NetAddress primary{ipOf(ctx.process().peers(), "primary-1"), kPrimaryPort};
  const NetAddress replica{ipOf(ctx.process().peers(), "replica-1"), kReplicaPort};
  std::unique_ptr<Connection> toPrimary, toReplica;
  for (std::uint64_t version = 1; !ctx.chaosOver().isSet(); ++version) {
    while (!(co_await ask(p, primary, toPrimary, Record().u8(kWrite).u64(version).bytes()))) {
      co_await p.time().sleep(kRetryDelay);
    }
    std::optional<std::string> read =
        co_await ask(p, replica, toReplica, Record().u8(kRead).u64(0).bytes());
    const std::string reply = read.value_or("");
    Reader r(reply);
    const bool served = r.u8() == 1;
    const std::uint64_t seen = r.u64();
    MOONPOOL_SOMETIMES(served && !r.failed(), "the replica serves a read");
    if (served && !r.failed()) {
      MOONPOOL_ALWAYS(seen >= version, "a read sees every write acknowledged before it");
      ctx.addMetric("replica reads", 1);
    }
    co_await p.time().sleep(p.random().durationBetween(kRetryDelay / 5, kRetryDelay));
  }
}

ChaosOptions chaos() {
  NetworkOptions network = NetworkOptions::quiet();
  network.faults.partitionWeight = 1;
  network.faults.chaosInterval = {std::chrono::seconds(1), std::chrono::seconds(4)};
  network.faults.episode = {std::chrono::milliseconds(500), std::chrono::seconds(2)};
  return ChaosOptions{.network = FaultProfile::kGiven,
                      .givenNetwork = network,
                      .storage = FaultProfile::kQuiet,
                      .clock = ClockDriftOptions{}};  // offsets up to 100 ms, 200 ppm
}

SimulationBuilder makeBuilder(Variant variant) {
  SimulationBuilder builder("stale_read");
  builder.processes(1, "primary", ServerMain{variant})
      .processes(1, "replica", ServerMain{variant})
      .workload(Workload{.name = "client", .run = runClient})
      .chaos(chaos())
      .chaosDuration(std::chrono::seconds(8))
      .settleDuration(std::chrono::seconds(1));
  return builder;
}

}  // namespace
}  // namespace moonpool::examples::bugs

int main(int argc, char** argv) {
  namespace bugs = moonpool::examples::bugs;
  return bugs::runBugMain(argc, argv, bugs::makeBuilder, bugs::BugDefaults{.seeds = 1000});
}
