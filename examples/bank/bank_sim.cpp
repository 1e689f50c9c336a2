// The bank simulation (bank_sim.h): processes, the teller workload and its checks.
#include "bank_sim.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bank.h"
#include "bank.moonpool.h"
#include "moonpool/assertions.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/rpc/host.h"
#include "moonpool/task_function.h"

namespace bank {
namespace {

using namespace std::chrono_literals;
using moonpool::CheckResult;
using moonpool::IpAddress;
using moonpool::NetAddress;
using moonpool::ProcessContext;
using moonpool::Providers;
using moonpool::Task;
using moonpool::WorkloadContext;
using moonpool::actors::ActorCluster;
using moonpool::actors::ActorContext;
using moonpool::actors::ActorRef;
using moonpool::actors::ActorRuntime;

constexpr std::uint16_t kPort = 7000;
constexpr IpAddress kRegistryIp = IpAddress::fromOctets(10, 0, 1, 1);
constexpr int kHosts = 3;
constexpr moonpool::Duration kLease = 1s;
// Attempts at one operation before the teller gives up (a workload error): far more than
// chaos and settling need.
constexpr int kAttemptsMax = 400;

// The failure monitor's pings are most of a seed's cost (each is a Cap'n Proto call over the
// simulated network, ~80 scheduler steps). kLean pings every 400 ms and marks a peer failed
// after two misses (at most 1.6 s); kFirst pinged every 200 ms with three misses (1.8 s), for
// 1.45x the CPU per seed. The lease (kLease), not the monitor, keeps one activation per key.
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

std::vector<NetAddress> hostAddresses() {
  std::vector<NetAddress> hosts;
  for (int i = 0; i < kHosts; ++i) {
    hosts.push_back(NetAddress{IpAddress::fromOctets(10, 0, 1, static_cast<std::uint8_t>(2 + i)),
                               kPort});
  }
  return hosts;
}

Task<void> registryMain(ProcessContext& context, BankOptions options) {
  Providers p = context.providers();
  // Before the host: its calls (a write holding the store's lock) go first.
  moonpool::actors::StorageStateStore states(p.storage());
  auto host = moonpool::rpc::Host::listen(p, NetAddress{IpAddress(), kPort}).orThrow();
  moonpool::actors::serveStateStore(*host, states);
  moonpool::actors::DirectoryService directory(
      p, *host,
      {.hosts = hostAddresses(), .lease = kLease, .fencing = options.fencing,
       .peer = peerOptions(options.profile)});
  co_await host->serve();
}

// An actor host, or (kClient, for the teller) a member no key is placed on: it only calls,
// so under kLean it has no state store (and no pings to one).
struct Member {
  enum class Role : std::uint8_t { kHost, kClient };

  Member(Providers p, IpAddress ip, BankOptions options, Role role)
      : states(role == Role::kHost || options.profile == BankOptions::Profile::kFirst
                   ? std::make_unique<moonpool::actors::RemoteStateStore>(
                         p, NetAddress{kRegistryIp, kPort}, statePeerOptions(options.profile))
                   : nullptr),
        runtime(p, moonpool::actors::ActorOptions{.idleTimeout = 3s, .collectInterval = 1s}),
        host(moonpool::rpc::Host::listen(p, NetAddress{IpAddress(), kPort}).orThrow()),
        cluster(runtime, *host,
                {.self = NetAddress{ip, kPort}, .directory = NetAddress{kRegistryIp, kPort},
                 .renewInterval = 250ms, .peer = peerOptions(options.profile),
                 .fencing = options.fencing}) {
    if (states != nullptr) runtime.setStateStore(*states);
    if (role == Role::kHost) ghost.up(runtime);
    runtime.add<Account>([](ActorContext& c) { return std::make_unique<Account>(c); });
    runtime.add<Transfer>([](ActorContext& c) { return std::make_unique<Transfer>(c); });
  }
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;
  ~Member() { ghost.goingDown(); }

  GhostHost ghost;  // first: it outlives the runtime's activations
  std::unique_ptr<moonpool::actors::RemoteStateStore> states;
  ActorRuntime runtime;
  std::unique_ptr<moonpool::rpc::Host> host;
  ActorCluster cluster;
};

Task<void> hostMain(ProcessContext& context, BankOptions options) {
  Member member(context.providers(), context.ip(), options, Member::Role::kHost);
  co_await member.host->serve();
}

std::string accountKey(int i) { return "acct-" + std::to_string(i); }

// What the teller saw acknowledged, per seed.
struct Teller {
  std::vector<int64_t> expected;              // balance per account
  std::vector<std::vector<int64_t>> acked;    // operation ids applied, per account
  int64_t deposited = 0;
  int64_t withdrawn = 0;
  int64_t nextOp = 1;
  int64_t nextTransfer = 1;
  int64_t operations = 0;
};

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

Task<void> oneOperation(Teller& t, ActorRuntime& runtime, Providers p, int accounts) {
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

Task<void> tellerRun(WorkloadContext& ctx, BankOptions options) {
  Teller& t = ctx.state<Teller>();
  t.expected.assign(options.accounts, 0);
  t.acked.assign(options.accounts, {});
  Providers p = ctx.providers();
  Member member(p, ctx.process().ip(), options, Member::Role::kClient);
  auto serving = p.tasks().spawn("teller host", member.host->serve());
  while (!ctx.chaosOver().isSet()) {
    co_await oneOperation(t, member.runtime, p, options.accounts);
    co_await p.time().sleep(std::chrono::milliseconds(20 + p.random().nextU64() % 200));
  }
  ctx.addMetric("operations", t.operations);
}

Task<CheckResult> tellerCheck(WorkloadContext& ctx, BankOptions options) {
  Teller& t = ctx.state<Teller>();
  Providers p = ctx.providers();
  Member member(p, ctx.process().ip(), options, Member::Role::kClient);
  auto serving = p.tasks().spawn("teller host", member.host->serve());
  CheckResult result;
  int64_t total = 0;
  for (int a = 0; a < options.accounts; ++a) {
    ActorRef<Account> account = member.runtime.ref<Account>(accountKey(a));
    const int64_t balance = co_await untilAnswered(
        p, [&]() __attribute__((coro_wrapper)) { return account.balance(); });
    std::vector<int64_t> applied = co_await untilAnswered(
        p, [&]() __attribute__((coro_wrapper)) { return account.applied(); });
    total += balance;
    if (balance != t.expected[a]) {
      result.violations.push_back(accountKey(a) + " holds " + std::to_string(balance) +
                                  ", the acknowledged operations say " +
                                  std::to_string(t.expected[a]));
    }
    for (int64_t op : t.acked[a]) {
      if (std::find(applied.begin(), applied.end(), op) == applied.end()) {
        result.violations.push_back("acknowledged operation " + std::to_string(op) + " on " +
                                    accountKey(a) + " was lost");
      }
    }
  }
  if (total != t.deposited - t.withdrawn) {
    result.violations.push_back("money is not conserved: the accounts hold " +
                                std::to_string(total) + ", deposits minus withdrawals are " +
                                std::to_string(t.deposited - t.withdrawn));
  }
  co_return result;
}

// Wipes. Attrition never wipes: its weightWipe would pick the registry too, whose disk is the
// accounts' only copy (no replication here; README.md). The bank hosts keep nothing on disk,
// so in a wiping seed the wiper reboots a running host with its disk erased every
// kWipeGap, while every other process of the bank runs, and the checks must find nothing
// lost.
constexpr moonpool::DurationRange kWipeGap{1s, 4s};
constexpr moonpool::DurationRange kWipeDowntime{300ms, 2s};

Task<void> wiperRun(WorkloadContext& ctx, BankOptions options) {
  Providers p = ctx.providers();
  if (!p.random().chance(options.wipingSeeds)) co_return;
  for (;;) {
    co_await p.time().sleep(p.random().durationIn(kWipeGap));
    if (ctx.chaosOver().isSet()) co_return;
    std::vector<std::string> running;
    bool allUp = true;
    for (const moonpool::ProcessInfo& process : ctx.process().peers()) {
      if (process.reboot == moonpool::ProcessSpec::Reboot::kNever) continue;  // workloads
      const bool up = process.state == moonpool::ProcessState::kRunning;
      allUp &= up;
      if (up && process.name.rfind("bank-", 0) == 0) running.push_back(process.name);
    }
    if (!allUp || running.empty()) continue;
    const std::string& victim = running[p.random().index(running.size())];
    const moonpool::FaultEffect effect = ctx.faults().reboot(
        victim, moonpool::RebootKind::kCrashAndWipe, p.random().durationIn(kWipeDowntime));
    MOONPOOL_SOMETIMES(effect == moonpool::FaultEffect::kApplied,
                       "a bank host was rebooted with its disk wiped");
  }
}

struct RegistryMain {
  BankOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& context) const {
    return registryMain(context, options);
  }
};
struct HostMain {
  BankOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& context) const {
    return hostMain(context, options);
  }
};
struct TellerRun {
  BankOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return tellerRun(ctx, options);
  }
};
struct WiperRun {
  BankOptions options;
  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return wiperRun(ctx, options);
  }
};
struct TellerCheck {
  BankOptions options;
  [[clang::coro_wrapper]] Task<CheckResult> operator()(WorkloadContext& ctx) const {
    return tellerCheck(ctx, options);
  }
};

moonpool::ChaosOptions bankChaos(BankOptions::Chaos chaos) {
  using moonpool::ChaosOptions;
  using moonpool::FaultProfile;
  if (chaos == BankOptions::Chaos::kOff) {
    const moonpool::WorldOptions quiet = moonpool::WorldOptions::quiet();
    return ChaosOptions{.clock = quiet.clock, .graceful = quiet.graceful};
  }
  // Attrition crashes (tearing unsynced writes) and reboots gracefully, but never wipes: the
  // wiper workload wipes the bank hosts only (wiperRun).
  moonpool::AttritionOptions attrition;
  attrition.weightWipe = 0;
  attrition.interval = {1s, 3s};
  attrition.recovery = {500ms, 3s};
  return ChaosOptions{.network = FaultProfile::kSwarm,
                      .storage = FaultProfile::kSwarm,
                      .attrition = moonpool::Attrition::kOn,
                      .attritionOptions = attrition};
}

}  // namespace

moonpool::SimulationBuilder bankBuilder(BankOptions options) {
  MOONPOOL_CHECK(options.accounts >= 2 && options.accounts <= BankOptions::kAccountsMax,
                 "BankOptions::accounts out of range");
  moonpool::SimulationBuilder builder("bank");
  builder.externalLoop([](moonpool::SimExecutor& executor) {
    resetGhosts();  // each seed starts with no activation
    return moonpool::SimKjLoop::make(executor);
  });
  builder.processes(1, "registry", RegistryMain{options})
      .processes(kHosts, "bank", HostMain{options})
      .workload(moonpool::Workload{.name = "teller",
                                   .run = TellerRun{options},
                                   .check = TellerCheck{options}})
      .chaos(bankChaos(options.chaos))
      .chaosDuration(options.chaosFor)
      .settleDuration(options.settleFor);
  const bool wipes = options.wipingSeeds > moonpool::Probability{0};
  if (options.chaos == BankOptions::Chaos::kFull && wipes) {
    builder.workload(moonpool::Workload{.name = "wiper", .run = WiperRun{options}});
  }
  return builder;
}

}  // namespace bank
