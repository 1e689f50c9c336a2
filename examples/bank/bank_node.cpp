// The bank's processes (bank_node.h): registry, members, the teller's operations.
#include "bank_node.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bank.moonpool.h"
#include "moonpool/assertions.h"

namespace bank {
namespace {

using namespace std::chrono_literals;
using moonpool::NetAddress;
using moonpool::Providers;
using moonpool::Task;
using moonpool::actors::ActorContext;
using moonpool::actors::ActorRef;
using moonpool::actors::ActorRuntime;

constexpr moonpool::Duration kLease = 1s;
// Attempts at one operation before the teller gives up (a workload error): far more than
// chaos and settling need.
constexpr int kAttemptsMax = 400;

// The failure monitor's pings are most of a seed's cost (each is a Cap'n Proto call over the
// simulated network, ~80 scheduler steps). kLean pings every 400 ms and marks a peer failed
// after two misses (at most 1.6 s); kFirst pinged every 200 ms with three misses (1.8 s).
// With kLean's other savings (README.md), a seed takes 1.85x fewer steps. The lease
// (kLease), not the monitor, keeps one activation per key.
moonpool::rpc::PeerOptions peerOptions(BankOptions::Profile profile) {
  const bool lean = profile == BankOptions::Profile::kLean;
  moonpool::rpc::PeerOptions peer;
  peer.pingInterval = lean ? 400ms : 200ms;
  peer.pingTimeout = 400ms;
  peer.missedPingsMax = lean ? 2 : 3;
  peer.connectTimeout = 300ms;
  peer.callTimeout = 4s;
  return peer;
}

// A host's peer to the state store (on the registry, which its cluster's directory peer
// watches already): its pings only make state calls fail fast while the registry is down,
// so kLean pings once a second there.
moonpool::rpc::PeerOptions statePeerOptions(BankOptions::Profile profile) {
  moonpool::rpc::PeerOptions peer = peerOptions(profile);
  if (profile == BankOptions::Profile::kFirst) return peer;
  peer.pingInterval = 1s;
  peer.pingTimeout = 500ms;
  return peer;
}

// Runs `attempt()` until it answers: every operation is idempotent by its id, so an error
// (maybe delivered, not here, timed out) is answered by asking again.
template <typename Attempt>
auto untilAnswered(Providers p, Attempt attempt) -> decltype(attempt()) {
  for (int tries = 1;; ++tries) {
    std::optional<std::string> failure;
    try {
      co_return co_await attempt();
    } catch (const moonpool::Exception& error) {
      failure = error.what();
    }
    if (tries >= kAttemptsMax) {
      throw moonpool::Exception(moonpool::ErrorKind::kFailed,
                                "no answer after " + std::to_string(tries) +
                                    " attempts; last: " + *failure);
    }
    co_await p.time().sleep(200ms);
  }
}

}  // namespace

namespace {

Task<void> operation(Teller& t, ActorRuntime& runtime, Providers p, int accounts) {
  const int kind = static_cast<int>(p.random().nextU64() % 20);
  const int a = static_cast<int>(p.random().nextU64() % accounts);
  const int64_t amount = 1 + static_cast<int64_t>(p.random().nextU64() % 50);
  ++t.operations;
  if (kind == 0) {
    ActorRef<Account> account = runtime.ref<Account>(accountKey(a));
    int64_t refused =
        co_await untilAnswered(p, [&]() __attribute__((coro_wrapper)) { return account.audit(); });
    MOONPOOL_ALWAYS(refused == 1, "an account's self-call is refused");
    co_return;
  }
  if (kind < 12) {  // deposit or withdrawal
    const int64_t delta = kind < 7 ? amount : -amount;
    const int64_t op = t.nextOp++;
    ActorRef<Account> account = runtime.ref<Account>(accountKey(a));
    int64_t after = co_await untilAnswered(
        p, [&]() __attribute__((coro_wrapper)) { return account.apply(op, delta); });
    if (after < 0) co_return;  // refused: it would overdraw
    t.expected[a] += delta;
    t.acked[a].push_back(op);
    (delta > 0 ? t.deposited : t.withdrawn) += delta > 0 ? delta : -delta;
    co_return;
  }
  const int b = (a + 1 + static_cast<int>(p.random().nextU64() % (accounts - 1))) % accounts;
  const int64_t id = t.nextTransfer++;
  ActorRef<Transfer> transfer = runtime.ref<Transfer>(id);
  const std::string from = accountKey(a);
  const std::string to = accountKey(b);
  bool done = co_await untilAnswered(
      p, [&]() __attribute__((coro_wrapper)) { return transfer.run(from, to, amount); });
  if (!done) co_return;
  t.expected[a] -= amount;
  t.expected[b] += amount;
  t.acked[a].push_back(kTransferOpBase + 2 * id);
  t.acked[b].push_back(kTransferOpBase + 2 * id + 1);
}

}  // namespace

Task<void> oneOperation(Teller& t, ActorRuntime& runtime, Providers p, int accounts) {
  const moonpool::TimePoint start = p.time().now();
  co_await operation(t, runtime, p, accounts);
  t.slowest = std::max(t.slowest, p.time().now() - start);
}

Task<std::vector<std::string>> checkAccounts(const Teller& t, ActorRuntime& runtime,
                                             Providers p, int accounts) {
  std::vector<std::string> violations;
  int64_t total = 0;
  for (int a = 0; a < accounts; ++a) {
    ActorRef<Account> account = runtime.ref<Account>(accountKey(a));
    const int64_t balance = co_await untilAnswered(
        p, [&]() __attribute__((coro_wrapper)) { return account.balance(); });
    std::vector<int64_t> applied = co_await untilAnswered(
        p, [&]() __attribute__((coro_wrapper)) { return account.applied(); });
    total += balance;
    if (balance != t.expected[a]) {
      violations.push_back(accountKey(a) + " holds " + std::to_string(balance) +
                           ", the acknowledged operations say " + std::to_string(t.expected[a]));
    }
    for (int64_t op : t.acked[a]) {
      if (std::find(applied.begin(), applied.end(), op) == applied.end()) {
        violations.push_back("acknowledged operation " + std::to_string(op) + " on " +
                             accountKey(a) + " was lost");
      }
    }
  }
  if (total != t.deposited - t.withdrawn) {
    violations.push_back("money is not conserved: the accounts hold " + std::to_string(total) +
                         ", deposits minus withdrawals are " +
                         std::to_string(t.deposited - t.withdrawn));
  }
  co_return violations;
}

std::string accountKey(int i) { return "acct-" + std::to_string(i); }

namespace {

Task<void> watchDirectory(Providers p, const moonpool::actors::DirectoryService& directory,
                          DirectoryWatch watch) {
  for (;;) {
    watch(directory);
    co_await p.time().sleep(kDirectoryWatchInterval);
  }
}

}  // namespace

Task<void> runRegistry(Providers p, NetAddress listen, BankAddresses addresses,
                       BankOptions options, DirectoryWatch watch) {
  // Before the host: its calls (a write holding the store's lock) go first.
  moonpool::actors::StorageStateStore states(p.storage());
  auto host = moonpool::rpc::Host::listen(p, listen).orThrow();
  moonpool::actors::serveStateStore(*host, states);
  moonpool::actors::DirectoryService directory(
      p, *host,
      {.hosts = addresses.hosts, .lease = kLease, .fencing = options.fencing,
       .peer = peerOptions(options.profile)});
  moonpool::JoinHandle<void> watching;
  if (watch) watching = p.tasks().spawn("directory watch", watchDirectory(p, directory, watch));
  co_await host->serve();
}

Member::Member(Providers p, NetAddress listen, NetAddress self, NetAddress registry,
               BankOptions options, Role role)
    : states(role == Role::kHost || options.profile == BankOptions::Profile::kFirst
                 ? std::make_unique<moonpool::actors::RemoteStateStore>(
                       p, registry, statePeerOptions(options.profile))
                 : nullptr),
      runtime(p, moonpool::actors::ActorOptions{.idleTimeout = 3s, .collectInterval = 1s}),
      host(moonpool::rpc::Host::listen(p, listen).orThrow()),
      cluster(runtime, *host,
              {.self = self, .directory = registry, .renewInterval = 250ms,
               .peer = peerOptions(options.profile), .fencing = options.fencing}) {
  if (states != nullptr) runtime.setStateStore(*states);
  if (role == Role::kHost) ghost.up(runtime);
  runtime.add<Account>([](ActorContext& c) { return std::make_unique<Account>(c); });
  runtime.add<Transfer>([](ActorContext& c) { return std::make_unique<Transfer>(c); });
}

Member::~Member() { ghost.goingDown(); }

}  // namespace bank
