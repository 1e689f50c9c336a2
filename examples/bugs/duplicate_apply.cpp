// Bug 4 of the corpus: a duplicate apply after a resend on a new connection
// (examples/bugs).
//
// Protocol. A counter server ("counter-1") adds amounts sent by clients. A request is
// 'A' client id, request id, amount; the reply echoes the request id. Clients number their
// requests 1, 2, ... and send one at a time; a client that hears nothing within
// kReplyTimeout resends on the same connection (a clogged path is slow, not broken), and
// after a broken connection it dials again and resends. The server remembers, per client,
// the last request id it applied, and answers a request it already applied without applying
// it again. 'Q' asks for the total.
//
// The planted mistake (--variant=buggy): that memory lives in the connection: resends on the
// same connection are recognized, resends on a new one are applied again. Fixed: one table
// for the whole server, keyed by client. Fault: the network closes or resets a connection
// after the server applied a request and before its reply arrived (random close), so the
// client resends on a new connection.
//
// Clients (add_clients.h): two loops add amounts until the chaos phase ends (each request retried
// until acknowledged). Check, after settling: the total equals the sum of the amounts.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "add_clients.h"
#include "bug_main.h"
#include "moonpool/assertions.h"
#include "moonpool/runner/workload.h"
#include "wire.h"

namespace moonpool::examples::bugs {
namespace {

constexpr std::uint16_t kPort = 7300;
constexpr char kAdd = 'A', kQuery = 'Q';
constexpr Duration kReplyTimeout = std::chrono::milliseconds(200);
constexpr int kResendsMax = 3;  // on one connection, then dial again
constexpr Duration kRetryDelay = std::chrono::milliseconds(20);

using LastApplied = std::map<std::uint64_t, std::uint64_t>;  // client id -> request id

struct Counter {
  explicit Counter(Variant v) : variant(v) {}
  Variant variant;
  std::uint64_t total = 0;
  LastApplied lastApplied{};  // used by the fixed variant
};

// Applies one add unless `seen` shows it was applied already.
void apply(Counter& s, LastApplied& seen, std::uint64_t client, std::uint64_t id,
           std::uint64_t amount) {
  auto last = seen.find(client);
  const bool duplicate = last != seen.end() && id <= last->second;
  MOONPOOL_SOMETIMES(duplicate, "the server recognizes a resent request");
  if (duplicate) return;
  seen[client] = id;
  s.total += amount;
}

Task<void> serveClient(std::shared_ptr<Counter> s, std::unique_ptr<Connection> connection) {
  LastApplied perConnection;  // the mistake, when the buggy variant uses it
  LastApplied& seen = s->variant == Variant::kBuggy ? perConnection : s->lastApplied;
  for (;;) {
    std::optional<std::string> request = co_await readFrame(*connection);
    if (!request) co_return;
    Reader r(*request);
    const char op = static_cast<char>(r.u8());
    const std::uint64_t client = r.u64();
    const std::uint64_t id = r.u64();
    const std::uint64_t amount = r.u64();
    if (r.failed() || (op != kAdd && op != kQuery)) co_return;
    if (op == kAdd) apply(*s, seen, client, id, amount);
    const std::uint64_t answer = op == kAdd ? id : s->total;
    if (!(co_await writeFrame(*connection, Record().u64(answer).bytes())).ok()) co_return;
  }
}

struct Handler {
  std::shared_ptr<Counter> server;
  [[clang::coro_wrapper]] Task<void> operator()(std::unique_ptr<Connection> connection) const {
    return serveClient(server, std::move(connection));
  }
};

struct ServerMain {
  Variant variant;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& ctx) const {
    return serve(ctx.providers(), kPort, Handler{std::make_shared<Counter>(variant)});
  }
};

// ---- clients ---------------------------------------------------------------------------------

// Waits for the reply to request `id`, skipping late replies to earlier sends; false on a
// broken connection.
Task<bool> awaitReply(Connection& connection, std::uint64_t id) {
  for (;;) {
    std::optional<std::string> reply = co_await readFrame(connection);
    if (!reply) co_return false;
    Reader r(*reply);
    if (r.u64() == id && !r.failed()) co_return true;
  }
}

// Sends request `id` until it is acknowledged.
Task<void> addOnce(Providers p, NetAddress server, std::unique_ptr<Connection>& connection,
                   std::string request, std::uint64_t id) {
  bool resend = false;
  for (int sends = 0;; ++sends, resend = true) {
    if (!connection || sends == kResendsMax) {
      MOONPOOL_SOMETIMES(resend, "a client resends on a new connection");
      connection = co_await dial(p.network(), server);
      sends = 0;
    }
    if (connection && (co_await writeFrame(*connection, request)).ok()) {
      std::optional<bool> acked =
          co_await tryWithin(p.time(), kReplyTimeout, awaitReply(*connection, id));
      if (acked && *acked) co_return;
      if (acked) connection.reset();  // broken; on a timeout, resend on the same one
    } else {
      connection.reset();
    }
    co_await p.time().sleep(kRetryDelay);
  }
}

Task<CheckResult> checkTotal(WorkloadContext& ctx) {
  const std::uint64_t total = co_await queryTotal(ctx, "counter-1", kPort, kQuery);
  const std::uint64_t sum = ctx.state<Sent>().sum;
  MOONPOOL_ALWAYS(total == sum, "the total is the sum of the acknowledged adds");
  if (total == sum) co_return CheckResult::pass();
  co_return CheckResult::fail("the total is " + std::to_string(total) + ", the adds sum to " +
                              std::to_string(sum));
}

ChaosOptions chaos() {
  NetworkOptions network = NetworkOptions::quiet();
  network.latency = LatencyModel::uniform(std::chrono::microseconds(100),
                                          std::chrono::microseconds(900));
  network.faults.randomCloseProbability = Probability{5e-5};
  network.faults.clogProbability = Probability{0.01};
  network.faults.clog = {std::chrono::milliseconds(50), std::chrono::milliseconds(500)};
  return ChaosOptions{.network = FaultProfile::kGiven, .givenNetwork = network};
}

SimulationBuilder makeBuilder(Variant variant) {
  SimulationBuilder builder("duplicate_apply");
  builder.processes(1, "counter", ServerMain{variant})
      .workload(Workload{.name = "clients",
                         .run = AddClientsRun{"counter-1", kPort, kAdd, addOnce},
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
