// Benchmarks of the actor runtime (scripts/bench_actors.sh prints the ratios), each next to
// its baseline measured in the same run:
//   SimServiceCall      a generated [[moonpool::service]] call (ProbeRemote over rpc::Peer)
//                       from the root of a SimWorld to a host: the baseline of remote calls;
//   SimActorRemoteCall  ActorRef<Counter>::get from host h1 to the activation on h2, through
//                       the directory's cached placement and h2's gateway (a pipelined call);
//   SimActorLocalCall   the same call from h2 itself: a local turn (a spawned task per call);
//   DirectCall          the actor's method called on the object, no runtime: the baseline
//                       of local calls;
//   Activation          a call to a fresh key each time (factory, onActivate, first turn) in
//                       a runtime without a cluster;
//   StateWrite          Wallet::deposit: one ActorState write (tmp file, sync, rename) on a
//                       quiet SimStorage.
// items_per_second is calls per wall second (UseRealTime). Everything runs in simulation:
// simulated time is free, so these are CPU costs of the code paths, not network latency.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "actor_cluster_testing.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/timeline.h"

namespace actortest {
namespace {

constexpr int kBatch = 64;  // calls per benchmark iteration

class ProbeImpl final : public Probe {
 public:
  // implements Probe
  Task<int64_t> get() override { co_return 7; }
};

// Runs `loop(world, cluster)` as the root driver of a fresh cluster world (seed 1).
template <typename Loop>
void inCluster(benchmark::State& state, Loop loop) {
  Cluster cluster;
  Simulation sim(SimOptions{.seed = 1});
  moonpool::SimKjLoop kj(sim.executor());
  SimWorld world(sim, WorldOptions::quiet());
  world.addProcess(ProcessSpec{.name = "directory", .ip = kDirectoryIp,
                               .main = moonpool::bindTask(directoryMain, &cluster)});
  for (int i = 0; i < 3; ++i) {
    world.addProcess(ProcessSpec{.name = kHostNames[i], .ip = hostIp(i),
                                 .main = moonpool::bindTask(hostMain, &cluster)});
  }
  RunOutcome outcome = sim.run(loop(&state, &world, &cluster));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}

Task<void> serviceLoop(benchmark::State* state, SimWorld* world, Cluster*) {
  Providers root = world->rootProviders();
  co_await root.time().sleep(100ms);
  ProbeImpl probe;
  // The service is served by a host of the driver's own, beside the cluster.
  auto host = moonpool::rpc::Host::listen(root, NetAddress{IpAddress(), 7100}).orThrow();
  host->add(schema::ProbeServer::kServiceName,
            kj::heap<schema::ProbeServer>(probe, &host->calls()));
  auto serving = root.tasks().spawn("serve", host->serve());
  moonpool::rpc::Peer peer(root, host->localAddress(), fastPeers());
  schema::ProbeRemote remote(peer);
  co_await remote.get();
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(co_await remote.get());
  }
}

void SimServiceCall(benchmark::State& state) { inCluster(state, serviceLoop); }
BENCHMARK(SimServiceCall)->UseRealTime();

Task<void> remoteLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);  // the directory's start-up wait
  co_await cluster->runtimes["h2"]->ref<Counter>("bench").get();  // placed on h2
  ActorRef<Counter> counter = cluster->runtimes["h1"]->ref<Counter>("bench");
  co_await counter.get();
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(co_await counter.get());
  }
}

void SimActorRemoteCall(benchmark::State& state) { inCluster(state, remoteLoop); }
BENCHMARK(SimActorRemoteCall)->UseRealTime();

Task<void> localLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);
  ActorRef<Counter> counter = cluster->runtimes["h2"]->ref<Counter>("bench");
  co_await counter.get();
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(co_await counter.get());
  }
}

void SimActorLocalCall(benchmark::State& state) { inCluster(state, localLoop); }
BENCHMARK(SimActorLocalCall)->UseRealTime();

Task<void> directLoop(benchmark::State* state, Providers providers) {
  ActorRuntime runtime(providers);
  Journal journal;
  ActorContext context(runtime, "actortest::Counter", "direct");
  Counter counter(context, journal);
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(co_await counter.get());
  }
}

void DirectCall(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1});
  RunOutcome outcome = sim.run(directLoop(&state, sim.providers()));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}
BENCHMARK(DirectCall)->UseRealTime();

Task<void> activationLoop(benchmark::State* state, Providers providers) {
  Journal journal;
  ActorRuntime runtime(providers, ActorOptions{.activationsMax = 10'000'000});
  registerActors(runtime, journal);
  std::int64_t key = 0;
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize(co_await runtime.ref<Gossip>(++key).relay({}, 0));
    }
  }
}

void Activation(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1});
  RunOutcome outcome = sim.run(activationLoop(&state, sim.providers()));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}
BENCHMARK(Activation)->UseRealTime();

Task<void> stateLoop(benchmark::State* state, Providers providers, moonpool::SimStorage* disk) {
  moonpool::actors::StorageStateStore store(disk->disk("bench"));
  ActorRuntime runtime(providers);
  runtime.setStateStore(store);
  runtime.add<Wallet>([](ActorContext& context) { return std::make_unique<Wallet>(context); });
  ActorRef<Wallet> wallet = runtime.ref<Wallet>("w");
  co_await wallet.balance();
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(co_await wallet.deposit(1));
  }
}

void StateWrite(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1});
  moonpool::Timeline timeline(sim.executor());
  moonpool::SimStorage storage(sim.executor(), sim.random(), timeline,
                               moonpool::StorageOptions::quiet());
  RunOutcome outcome = sim.run(stateLoop(&state, sim.providers(), &storage));
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}
BENCHMARK(StateWrite)->UseRealTime();

}  // namespace
}  // namespace actortest

BENCHMARK_MAIN();
