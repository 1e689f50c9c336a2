// Bug 5 of the corpus, the needle: a lost reply, then a crash inside a flush window, then the
// resend first after the reboot (examples/bugs).
//
// Protocol. A ledger server ("ledger-1") adds amounts sent by clients, exactly once. A
// request is 'A' client id, request id, amount; the reply echoes the request id. Clients
// send one request at a time, numbered 1, 2, ...; after a broken connection they dial again
// and resend. The server keeps the total in the file "total" (written and synced before the
// reply) and, per client, the last request id applied, to answer resends without applying
// them again (one table for the whole server: resends on new connections are recognized).
//
// The planted mistake (--variant=buggy): the dedup table goes to its own file "dedup",
// flushed every kFlushEvery by a background task, because "it is only a cache". The total
// is durable before the reply, its dedup entry only after the next flush. Fixed: the
// total and the dedup table are one record in "total", written and synced together.
//
// What it takes to fail, in order: (1) the connection breaks after the server applied a
// request and before its reply arrived (a random close), so the client will resend; (2) the
// server crashes inside the flush window, after that apply and before both the next flush
// and the resend (about kRetryDelay); (3) the resend reaches the rebooted server, which
// recovered the total with the add but a dedup table without it, and applies it again.
// Each step alone is harmless. Check, after settling: the total is the sum of the amounts.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "add_clients.h"
#include "bug_main.h"
#include "moonpool/assertions.h"
#include "moonpool/runner/workload.h"
#include "moonpool/sync.h"
#include "wire.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::uint16_t kPort = 7400;
constexpr char kAdd = 'A', kQuery = 'Q';
constexpr Duration kFlushEvery = std::chrono::milliseconds(200);
constexpr Duration kRetryDelay = std::chrono::milliseconds(20);
constexpr std::size_t kStateBytesMax = 512;  // one sector: a write of it is atomic

struct Ledger {
  Ledger(Providers p, Variant v) : providers(p), variant(v) {}
  Providers providers;
  Variant variant;
  std::uint64_t total = 0;
  std::map<std::uint64_t, std::uint64_t> lastApplied{};  // client id -> request id
  std::unique_ptr<File> totalFile{};
  std::unique_ptr<File> dedupFile{};
  Mutex mutex{};
};

std::string encodeTable(const std::map<std::uint64_t, std::uint64_t>& table) {
  Record out;
  out.u32(static_cast<std::uint32_t>(table.size()));
  for (const auto& [client, id] : table) out.u64(client).u64(id);
  return out.bytes();
}

void decodeTable(Reader& r, std::map<std::uint64_t, std::uint64_t>& table) {
  const std::uint32_t count = r.u32();
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    const std::uint64_t client = r.u64();
    table[client] = r.u64();
  }
}

// The "total" file: the total, and in the fixed variant the dedup table with it.
std::string encodeTotal(const Ledger& s) {
  std::string bytes = Record().u64(s.total).bytes();
  if (s.variant == Variant::kFixed) bytes += encodeTable(s.lastApplied);
  MOONPOOL_CHECK_LE(bytes.size(), kStateBytesMax, "the ledger state outgrew a sector");
  return bytes;
}

Task<std::string> readAll(File& file) {
  std::string bytes(kStateBytesMax, '\0');
  auto view = std::as_writable_bytes(std::span<char>(bytes.data(), bytes.size()));
  bytes.resize((co_await file.read(0, view)).orThrow());
  co_return bytes;
}

Task<void> recover(Ledger& s) {
  StorageProvider& disk = s.providers.storage();
  s.totalFile = (co_await disk.open("total", OpenMode::kCreate)).orThrow();
  s.dedupFile = (co_await disk.open("dedup", OpenMode::kCreate)).orThrow();
  const std::string total = co_await readAll(*s.totalFile);
  Reader r(total);
  s.total = r.u64();
  if (s.variant == Variant::kFixed) decodeTable(r, s.lastApplied);
  if (s.variant == Variant::kBuggy) {
    const std::string dedup = co_await readAll(*s.dedupFile);
    Reader d(dedup);
    decodeTable(d, s.lastApplied);
  }
  MOONPOOL_SOMETIMES(!s.lastApplied.empty(), "the ledger recovers its dedup table at boot");
}

// The background flush of the buggy variant's dedup file.
Task<void> flushLoop(std::shared_ptr<Ledger> s) {
  for (;;) {
    co_await s->providers.time().sleep(kFlushEvery);
    Mutex::Guard guard = co_await s->mutex.lock();
    const std::string table = encodeTable(s->lastApplied);
    if (!(co_await s->dedupFile->write(0, asBytes(table))).ok()) continue;
    (void)co_await s->dedupFile->sync();
  }
}

// Applies one add (unless it was applied already); false when the state could not be
// made durable (no reply then).
Task<bool> apply(Ledger& s, std::uint64_t client, std::uint64_t id, std::uint64_t amount) {
  Mutex::Guard guard = co_await s.mutex.lock();
  auto last = s.lastApplied.find(client);
  const bool duplicate = last != s.lastApplied.end() && id <= last->second;
  MOONPOOL_SOMETIMES(duplicate, "the ledger recognizes a resent request");
  if (duplicate) co_return true;
  s.lastApplied[client] = id;
  s.total += amount;
  const std::string state = encodeTotal(s);
  if (!(co_await s.totalFile->write(0, asBytes(state))).ok()) co_return false;
  co_return (co_await s.totalFile->sync()).ok();
}

Task<void> serveClient(std::shared_ptr<Ledger> s, std::unique_ptr<Connection> connection) {
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request) co_return;
    Reader r(*request);
    const char op = static_cast<char>(r.u8());
    const std::uint64_t client = r.u64();
    const std::uint64_t id = r.u64();
    const std::uint64_t amount = r.u64();
    if (r.failed() || (op != kAdd && op != kQuery)) co_return;
    if (op == kAdd && !co_await apply(*s, client, id, amount)) co_return;
    const std::uint64_t answer = op == kAdd ? id : s->total;
    if (!(co_await writeFrame(*connection, Record().u64(answer).bytes())).ok()) co_return;
  }
}

struct Handler {
  std::shared_ptr<Ledger> ledger;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> connection) const {
    return serveClient(ledger, std::move(connection));
  }
};

Task<void> runLedger(Providers p, Variant variant) {
  auto s = std::make_shared<Ledger>(p, variant);
  co_await recover(*s);
  if (variant == Variant::kBuggy) p.tasks().spawn("flush", flushLoop(s)).detach();
  co_await serve(p, kPort, Handler{s});
}

struct ServerMain {
  Variant variant;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return runLedger(ctx.providers(), variant);
  }
};

// ---- clients ---------------------------------------------------------------------------------

// Sends request `id` until it is acknowledged, dialing again after a broken connection.
Task<void> addOnce(Providers p, NetAddress server, std::unique_ptr<Connection>& connection,
                   std::string request, std::uint64_t id) {
  for (bool resend = false;; resend = true) {
    if (!connection) {
      MOONPOOL_SOMETIMES(resend, "a client resends on a new connection");
      connection = co_await dial(p.network(), server);
    }
    if (connection) {
      std::optional<std::string> reply = co_await call(*connection, request);
      const std::string bytes = reply.value_or(std::string());
      Reader r(bytes);
      if (reply && r.u64() == id && !r.failed()) co_return;
      connection.reset();
    }
    co_await p.time().sleep(kRetryDelay);
  }
}

Task<CheckResult> checkTotal(WorkloadContext& ctx) {
  const std::uint64_t total = co_await queryTotal(ctx, "ledger-1", kPort, kQuery);
  const std::uint64_t sum = ctx.state<Sent>().sum;
  MOONPOOL_ALWAYS(total == sum, "the ledger total is the sum of the acknowledged adds");
  if (total == sum) co_return CheckResult::pass();
  co_return CheckResult::fail("the total is " + std::to_string(total) + ", the adds sum to " +
                              std::to_string(sum));
}

ChaosOptions chaos() {
  // Replies arrive at once (no latency): a crash cannot fall between a reply and its
  // arrival, so losing a reply takes a network fault (step 1), never the crash itself.
  NetworkOptions network = NetworkOptions::quiet();
  network.connectLatency = LatencyModel::fixed(Duration{0});
  network.latency = LatencyModel::fixed(Duration{0});
  network.faults.randomCloseProbability = Probability{5e-6};
  StorageOptions disk = StorageOptions::quiet();
  disk.syncLatency = LatencyModel::uniform(std::chrono::milliseconds(1),
                                           std::chrono::milliseconds(5));
  AttritionOptions attrition;
  attrition.weightGraceful = 0;
  attrition.weightCrash = 1;
  attrition.weightWipe = 0;  // a wiped ledger loses its total in every variant
  attrition.interval = {std::chrono::seconds(2), std::chrono::seconds(6)};
  attrition.recovery = {std::chrono::milliseconds(100), std::chrono::milliseconds(500)};
  attrition.pauseProbability = Probability{0};
  return ChaosOptions{.network = FaultProfile::kGiven,
                      .givenNetwork = network,
                      .storage = FaultProfile::kGiven,
                      .givenStorage = disk,
                      .attrition = Attrition::kOn,
                      .attritionOptions = attrition};
}

SimulationBuilder makeBuilder(Variant variant) {
  SimulationBuilder builder("needle");
  builder.processes(1, "ledger", ServerMain{variant})
      .workload(Workload{.name = "clients",
                         .run = AddClientsRun{"ledger-1", kPort, kAdd, addOnce},
                         .check = checkTotal})
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
