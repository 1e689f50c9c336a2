// Bug 1 of the corpus: a lock server that grants twice after a crash (examples/bugs).
//
// Protocol. One server process ("lock-1") guards one lock. Its state is the holder's client
// id (0: free), kept in memory and in the 8-byte file "holder" (one sector: a write of it
// lands whole or not at all). Requests are frames on a connection: 'A' acquire or 'R'
// release, then the client id; the reply is one byte, 1 (granted / released) or 0 (busy).
// Acquiring a lock one already holds is granted again, so a client that lost a reply can
// retry. A Mutex orders the requests of concurrent connections.
//
// The planted mistake (--variant=buggy): acquire replies "granted" and only then syncs the
// file. A crash inside that window (the sync takes 5-20 ms on this disk) loses the grant:
// the server reboots believing the lock free and grants it to another client while the
// first still holds it. Fixed: sync, then reply. Fault: attrition (crash, or a graceful
// reboot that outlasts its grace period) at the right moment.
//
// Clients: kClients instances of one workload, each its own process (10.0.0.N), loop:
// acquire (retrying while busy or failing), hold for a while, release (retrying until
// acknowledged). Who holds the lock is a ghost in the seed's shared state (Holders, declared
// with sharedState<Holders>()), which every client updates as it is granted and lets go.
// Property: at most one client holds the lock at any moment (MOONPOOL_ALWAYS at every grant).
#include <array>
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

constexpr std::uint16_t kPort = 7000;
constexpr std::size_t kClients = 3;
constexpr char kAcquire = 'A';
constexpr char kRelease = 'R';
constexpr Duration kRetryDelay = std::chrono::milliseconds(100);
constexpr DurationRange kHold{std::chrono::milliseconds(50), std::chrono::milliseconds(1500)};

struct LockServer {
  LockServer(Providers p, Variant v) : providers(p), variant(v) {}
  Providers providers;
  Variant variant;
  std::unique_ptr<File> file{};
  std::uint64_t holder = 0;
  Mutex mutex{};
};

std::string holderBytes(std::uint64_t holder) { return Record().u64(holder).bytes(); }

// Stores the holder; nothing when the write or the sync failed.
Task<bool> writeHolder(LockServer& s, std::uint64_t holder) {
  const std::string bytes = holderBytes(holder);
  co_return (co_await s.file->write(0, asBytes(bytes))).ok();
}

Task<bool> reply(Connection& connection, bool yes) {
  co_return (co_await writeFrame(connection, Record().u8(yes ? 1 : 0).bytes())).ok();
}

// One request under the server's mutex; false ends the connection.
Task<bool> handle(LockServer& s, Connection& connection, char op, std::uint64_t client) {
  Mutex::Guard guard = co_await s.mutex.lock();
  if (op == kRelease) {
    if (s.holder == client) {
      s.holder = 0;
      if (!co_await writeHolder(s, 0) || !(co_await s.file->sync()).ok()) co_return false;
    }
    co_return co_await reply(connection, true);
  }
  if (s.holder != 0 && s.holder != client) co_return co_await reply(connection, false);
  s.holder = client;
  if (!co_await writeHolder(s, client)) co_return false;
  if (s.variant == Variant::kBuggy) {
    // The mistake: the client hears "granted" before the grant is durable.
    if (!co_await reply(connection, true)) co_return false;
    co_return (co_await s.file->sync()).ok();
  }
  if (!(co_await s.file->sync()).ok()) co_return false;
  co_return co_await reply(connection, true);
}

Task<void> serveClient(std::shared_ptr<LockServer> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request) co_return;
    Reader r(*request);
    const char op = static_cast<char>(r.u8());
    const std::uint64_t client = r.u64();
    if (r.failed() || client == 0 || (op != kAcquire && op != kRelease)) co_return;
    if (!co_await handle(*s, *connection, op, client)) co_return;
  }
}

struct Handler {
  std::shared_ptr<LockServer> server;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> connection) const {
    return serveClient(server, std::move(connection));
  }
};

Task<void> runServer(Providers p, Variant variant) {
  auto s = std::make_shared<LockServer>(p, variant);
  s->file = (co_await p.storage().open("holder", OpenMode::kCreate)).orThrow();
  std::array<std::byte, 8> raw{};
  const std::size_t got = (co_await s->file->read(0, raw)).orThrow();
  if (got == raw.size()) {
    s->holder = Reader(std::string_view(reinterpret_cast<const char*>(raw.data()), 8)).u64();
  }
  MOONPOOL_SOMETIMES(s->holder != 0, "the lock server boots with the lock held");
  co_await serve(p, kPort, Handler{s});
}

struct ServerMain {
  Variant variant;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return runServer(ctx.providers(), variant);
  }
};

// ---- clients ---------------------------------------------------------------------------------

// The ghost of who holds the lock, shared by the client processes (one per seed).
struct Holders {
  std::array<bool, kClients + 1> holding{};  // by client id (1-based)
};

std::size_t holdersOtherThan(const Holders& c, std::uint64_t client) {
  std::size_t count = 0;
  for (std::size_t id = 1; id <= kClients; ++id) count += (c.holding[id] && id != client) ? 1 : 0;
  return count;
}

// Sends one request; its one-byte reply, or nothing (the connection is then dropped).
Task<std::optional<bool>> request(Providers p, NetAddress server,
                                  std::unique_ptr<Connection>& connection, char op,
                                  std::uint64_t client) {
  if (!connection) connection = co_await dial(p.network(), server);
  if (!connection) co_return std::nullopt;
  std::optional<std::string> answer =
      co_await call(*connection, Record().u8(static_cast<std::uint8_t>(op)).u64(client).bytes());
  const std::string reply = answer.value_or("");
  Reader r(reply);
  const std::uint8_t yes = r.u8();
  if (!answer || r.failed()) {
    connection.reset();
    co_return std::nullopt;
  }
  co_return yes == 1;
}

Task<void> runClient(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  const std::uint64_t client = ctx.instance() + 1;
  Holders& c = ctx.shared<Holders>();
  std::int64_t grants = 0;
  const NetAddress server{ipOf(ctx.process().peers(), "lock-1"), kPort};
  std::unique_ptr<Connection> connection;
  while (!ctx.chaosOver().isSet()) {
    std::optional<bool> granted = co_await request(p, server, connection, kAcquire, client);
    if (!granted || !*granted) {
      MOONPOOL_SOMETIMES(granted.has_value(), "a client finds the lock busy");
      co_await p.time().sleep(kRetryDelay);
      continue;
    }
    MOONPOOL_ALWAYS(holdersOtherThan(c, client) == 0, "at most one client holds the lock");
    c.holding[client] = true;
    ++grants;
    co_await p.time().sleep(p.random().durationIn(kHold));
    c.holding[client] = false;  // before asking: the server may hand it on at once
    while (!(co_await request(p, server, connection, kRelease, client)).has_value()) {
      co_await p.time().sleep(kRetryDelay);
    }
  }
  ctx.addMetric("grants", grants);
}

ChaosOptions chaos() {
  StorageOptions disk = StorageOptions::quiet();
  disk.syncLatency = LatencyModel::uniform(std::chrono::milliseconds(5),
                                           std::chrono::milliseconds(20));
  AttritionOptions attrition;
  attrition.weightGraceful = 1;
  attrition.weightCrash = 2;
  attrition.weightWipe = 0;  // a wiped lock server forgets every grant: no protocol survives
  attrition.interval = {std::chrono::milliseconds(500), std::chrono::seconds(2)};
  attrition.recovery = {std::chrono::milliseconds(100), std::chrono::milliseconds(500)};
  attrition.pauseProbability = Probability{0};
  return ChaosOptions{.network = FaultProfile::kQuiet,
                      .storage = FaultProfile::kGiven,
                      .givenStorage = disk,
                      .attrition = Attrition::kOn,
                      .attritionOptions = attrition};
}

SimulationBuilder makeBuilder(Variant variant) {
  SimulationBuilder builder("double_grant");
  builder
      .processes(1, "lock", ServerMain{variant})
      .workload(Workload{.name = "client", .run = runClient, .instances = kClients})
      .sharedState<Holders>()
      .chaos(chaos())
      .chaosDuration(std::chrono::seconds(10))
      .settleDuration(std::chrono::seconds(1));
  return builder;
}

}  // namespace
}  // namespace moonpool::examples::bugs

int main(int argc, char** argv) {
  namespace bugs = moonpool::examples::bugs;
  return bugs::runBugMain(argc, argv, bugs::makeBuilder, bugs::BugDefaults{.seeds = 1000});
}
