// The README's actor code run by a user of the installed package: a Wallet (wallet.h) in a
// seeded simulation, its state on a simulated disk. Three concurrent deposits through one
// reference add up (turns), and a second runtime over the same disk starts the wallet from
// its stored state. Prints "wallet ok: ..." and exits 0, or says what went wrong and exits 1.
#include <cstdio>
#include <memory>

#include "moonpool/actors/runtime.h"
#include "moonpool/actors/state.h"
#include "moonpool/combinators.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/timeline.h"
#include "wallet.h"
#include "wallet.moonpool.h"

namespace {

using moonpool::Providers;
using moonpool::Task;
using moonpool::actors::ActorContext;
using moonpool::actors::ActorRuntime;
using moonpool::actors::StorageStateStore;
using guide::Wallet;

struct Seen {
  int64_t first = 0;
  int64_t concurrent = 0;
  int64_t reloaded = 0;
};

Task<void> depositTwice(Providers providers, StorageStateStore& store, Seen& seen) {
  ActorRuntime runtime(providers);                 // one per process
  runtime.setStateStore(store);                    // StorageStateStore over a StorageProvider
  runtime.add<Wallet>([](ActorContext& c) { return std::make_unique<Wallet>(c); });
  int64_t total = co_await runtime.ref<Wallet>("alice").deposit(5);
  seen.first = total;
  moonpool::actors::ActorRef<Wallet> alice = runtime.ref<Wallet>("alice");
  co_await moonpool::whenAll(alice.deposit(1), alice.deposit(1), alice.deposit(1));
  seen.concurrent = co_await alice.balance();
}

Task<void> reload(Providers providers, StorageStateStore& store, Seen& seen) {
  ActorRuntime runtime(providers);
  runtime.setStateStore(store);
  runtime.add<Wallet>([](ActorContext& c) { return std::make_unique<Wallet>(c); });
  seen.reloaded = co_await runtime.ref<Wallet>("alice").balance();
}

Task<void> walletMain(Providers providers, moonpool::StorageProvider& disk, Seen& seen) {
  StorageStateStore store(disk);
  co_await depositTwice(providers, store, seen);
  co_await reload(providers, store, seen);
}

}  // namespace

int main() {
  moonpool::Simulation sim(moonpool::SimOptions{.seed = 7});
  moonpool::Timeline timeline(sim.executor());
  moonpool::SimStorage storage(sim.executor(), sim.random(), timeline,
                               moonpool::StorageOptions::quiet());
  Seen seen;
  const moonpool::RunOutcome outcome =
      sim.run(walletMain(sim.providers(), storage.disk("wallets"), seen));
  if (!outcome.ok()) {
    std::fprintf(stderr, "wallet failed: %s\n", outcome.message.c_str());
    return 1;
  }
  if (seen.first != 5 || seen.concurrent != 8 || seen.reloaded != 8) {
    std::fprintf(stderr, "wallet: deposit answered %lld, three more gave %lld, reloaded %lld "
                         "(expected 5, 8, 8)\n",
                 static_cast<long long>(seen.first), static_cast<long long>(seen.concurrent),
                 static_cast<long long>(seen.reloaded));
    return 1;
  }
  std::printf("wallet ok: 5, then 8 after three concurrent deposits, 8 reloaded\n");
  return 0;
}
