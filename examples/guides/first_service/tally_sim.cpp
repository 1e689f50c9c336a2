// "Your first service": server and client as two simulated processes, under chaos.
#include "tally_sim.h"

#include "moonpool/assertions.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "tally.moonpool.h"
#include "tally_impl.h"

namespace guide {
namespace {

using namespace std::chrono_literals;
using moonpool::Task;

constexpr std::uint16_t kPort = 7100;

// The server process: one Host on its address, serving the generated adapter.
Task<void> serverMain(moonpool::ProcessContext& process) {
  TallyImpl tally;  // declared before the host: it outlives every call the host serves
  auto host = moonpool::rpc::Host::listen(process.providers(), {process.ip(), kPort}).orThrow();
  host->add(schema::TallyServer::kServiceName,
            kj::heap<schema::TallyServer>(tally, &host->calls()));
  co_await host->serve();
}

struct Ledger {
  std::int64_t acknowledged = 0;
  std::int64_t attempted = 0;
};

// The client workload: adds through the generated remote, which reconnects by itself.
Task<void> clientRun(moonpool::WorkloadContext& ctx) {
  Ledger& ledger = ctx.state<Ledger>();
  moonpool::rpc::Peer peer(ctx.providers(), {ctx.process().peer("tally-1")->ip, kPort});
  schema::TallyRemote tally(peer);
  while (!ctx.chaosOver().isSet()) {
    const std::int64_t amount = ctx.providers().random().between(1, 10);
    ledger.attempted += amount;
    try {
      const std::int64_t total = co_await tally.add(Entry{.name = "apples", .amount = amount});
      ledger.acknowledged += amount;
      MOONPOOL_ALWAYS_GE(total, ledger.acknowledged, "no acknowledged add is lost");
    } catch (const moonpool::rpc::RpcError& error) {
      // Not idempotent, so not resent: the add may or may not have happened.
      MOONPOOL_SOMETIMES(error.maybeDelivered(), "an add was lost with its connection");
    }
    co_await ctx.providers().time().sleep(20ms);
  }
}

Task<moonpool::CheckResult> clientCheck(moonpool::WorkloadContext& ctx) {
  const Ledger& ledger = ctx.state<Ledger>();
  moonpool::rpc::Peer peer(ctx.providers(), {ctx.process().peer("tally-1")->ip, kPort});
  const std::int64_t total = co_await schema::TallyRemote(peer).total("apples");
  if (total < ledger.acknowledged || total > ledger.attempted) {
    co_return moonpool::CheckResult::fail("total " + std::to_string(total) + " outside [" +
                                          std::to_string(ledger.acknowledged) + ", " +
                                          std::to_string(ledger.attempted) + "]");
  }
  co_return moonpool::CheckResult::pass();
}

}  // namespace

moonpool::SimulationBuilder tallySimulation() {
  moonpool::SimulationBuilder builder("tally");
  builder.externalLoop(&moonpool::SimKjLoop::make)  // Cap'n Proto's event loop, per seed
      .processes(1, "tally", serverMain)
      .workload(moonpool::Workload{.name = "client", .run = clientRun, .check = clientCheck})
      .chaos(moonpool::ChaosOptions{.network = moonpool::FaultProfile::kChaotic})
      .chaosDuration(5s)
      .settleDuration(1s)
      .iterations(10);
  return builder;
}

}  // namespace guide
