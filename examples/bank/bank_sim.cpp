// The bank simulation (bank_sim.h): processes, the teller workload and its checks.
#include "bank_sim.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

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

constexpr std::uint16_t kPort = 7000;
constexpr IpAddress kRegistryIp = IpAddress::fromOctets(10, 0, 1, 1);
constexpr int kHosts = 3;

std::vector<NetAddress> hostAddresses() {
  std::vector<NetAddress> hosts;
  for (int i = 0; i < kHosts; ++i) {
    hosts.push_back(NetAddress{IpAddress::fromOctets(10, 0, 1, static_cast<std::uint8_t>(2 + i)),
                               kPort});
  }
  return hosts;
}

constexpr NetAddress kRegistry{kRegistryIp, kPort};
// Every simulated process listens on kPort of its own address.
constexpr NetAddress kListen{IpAddress(), kPort};

Task<void> registryMain(ProcessContext& context, BankOptions options) {
  co_await runRegistry(context.providers(), kListen,
                       BankAddresses{.registry = kRegistry, .hosts = hostAddresses()}, options);
}

Task<void> hostMain(ProcessContext& context, BankOptions options) {
  Member member(context.providers(), kListen, NetAddress{context.ip(), kPort}, kRegistry,
                options, Member::Role::kHost);
  co_await member.host->serve();
}

Task<void> tellerRun(WorkloadContext& ctx, BankOptions options) {
  Teller& t = ctx.state<Teller>();
  t.expected.assign(options.accounts, 0);
  t.acked.assign(options.accounts, {});
  Providers p = ctx.providers();
  Member member(p, kListen, NetAddress{ctx.process().ip(), kPort}, kRegistry, options,
                Member::Role::kClient);
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
  Member member(p, kListen, NetAddress{ctx.process().ip(), kPort}, kRegistry, options,
                Member::Role::kClient);
  auto serving = p.tasks().spawn("teller host", member.host->serve());
  co_return CheckResult{co_await checkAccounts(t, member.runtime, p, options.accounts)};
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
