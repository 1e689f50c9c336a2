// Benchmarks of the actor runtime (scripts/bench_actors.sh prints the ratios), each next to
// its baseline measured in the same run. In simulation (simulated time is free, so these are
// CPU costs of the code paths, not network latency):
//   SimServiceCall      a generated [[moonpool::service]] call (ProbeRemote over rpc::Peer)
//                       from the root of a SimWorld to a host: the baseline of remote calls;
//   SimActorRemoteCall  ActorRef<Counter>::get from host h1 to the activation on h2, through
//                       the directory's cached placement and h2's gateway (one RPC);
//   SimActorLocalCall   the same call from h2 itself: a local turn (a spawned task per call);
//   SimActorLocalExclusiveCall  the same with an exclusive method (Counter::relay with no
//                       path): it takes the activation's turn, free each time;
//   DirectCall          the actor's method called on the object, no runtime: the baseline
//                       of local calls;
//   Activation          a call to a fresh key each time (factory, onActivate, first turn) in
//                       a runtime without a cluster;
//   SimClusterActivation  a call from h1 to a fresh key each time: directory lookup, lease
//                       claim by h2, activation, the call;
//   StateWrite          Wallet::deposit: one ActorState write (tmp file, sync, rename) on a
//                       quiet SimStorage.
// Over real loopback TCP (one process, one thread: every host shares one KJ event loop, as
// in rpc_bench, so each call's client and server CPU add up on that thread):
//   RealServiceCall     ProbeRemote::get to an rpc::Host on 127.0.0.1: the baseline;
//   RealActorRemoteCall ActorRef<Counter>::get from h1 to the activation on h2, with the
//                       directory on a third rpc::Host;
//   RealActivation      as SimClusterActivation, over loopback;
//   RealStateWrite      as StateWrite, on the RealStorageProvider (files under /tmp).
// items_per_second is calls per wall second (UseRealTime); cpu_time is the thread's CPU.
// MOONPOOL_BENCH_CALLS=<n> sets the calls per iteration (64): scripts/bench_actors.sh
// --callgrind runs two sizes and divides the difference.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "actor_bench.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/timeline.h"

namespace actortest {
namespace {

// Local calls and activations take no simulated time, so a benchmark's millions of them run
// at one instant: far past the livelock limit a simulation normally keeps (1,000,000 steps).
constexpr std::uint64_t kBenchStepsPerInstantMax = std::uint64_t{1} << 40;

// --- simulation --------------------------------------------------------------------------

// Runs `loop(world, cluster)` as the root driver of a fresh cluster world (seed 1).
template <typename Loop>
void inCluster(benchmark::State& state, Loop loop) {
  Cluster cluster;
  Simulation sim(SimOptions{.seed = 1, .stepsPerInstantMax = kBenchStepsPerInstantMax});
  moonpool::SimKjLoop kj(sim.executor());
  SimWorld world(sim, WorldOptions::quiet());
  world.addProcess(ProcessSpec{.name = "directory", .ip = kDirectoryIp,
                               .main = moonpool::bindTask(directoryMain, &cluster)});
  for (int i = 0; i < 3; ++i) {
    world.addProcess(ProcessSpec{.name = kHostNames[i], .ip = hostIp(i),
                                 .main = moonpool::bindTask(hostMain, &cluster)});
  }
  countCalls(state, sim.run(loop(&state, &world, &cluster)));
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
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await remote.get());
  }
}

void SimServiceCall(benchmark::State& state) { inCluster(state, serviceLoop); }
BENCHMARK(SimServiceCall)->UseRealTime();

Task<void> remoteLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);  // the directory's start-up wait
  co_await cluster->runtimes["h2"]->ref<Counter>("bench").get();  // placed on h2
  co_await getLoop(state, cluster->runtimes["h1"]->ref<Counter>("bench"));
}

void SimActorRemoteCall(benchmark::State& state) { inCluster(state, remoteLoop); }
BENCHMARK(SimActorRemoteCall)->UseRealTime();

Task<void> localLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);
  co_await getLoop(state, cluster->runtimes["h2"]->ref<Counter>("bench"));
}

void SimActorLocalCall(benchmark::State& state) { inCluster(state, localLoop); }
BENCHMARK(SimActorLocalCall)->UseRealTime();

// Counter::relay({}, 0): an exclusive method, so each call takes the (free) turn.
Task<void> exclusiveLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);
  ActorRef<Counter> counter = cluster->runtimes["h2"]->ref<Counter>("bench");
  co_await counter.relay({}, 0);
  for (auto _ : *state) {
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await counter.relay({}, 0));
  }
}

void SimActorLocalExclusiveCall(benchmark::State& state) { inCluster(state, exclusiveLoop); }
BENCHMARK(SimActorLocalExclusiveCall)->UseRealTime();

Task<void> directLoop(benchmark::State* state, Providers providers) {
  ActorRuntime runtime(providers);
  Journal journal;
  ActorContext context(runtime, "actortest::Counter", "direct");
  Counter counter(context, journal);
  for (auto _ : *state) {
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await counter.get());
  }
}

void DirectCall(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1, .stepsPerInstantMax = kBenchStepsPerInstantMax});
  countCalls(state, sim.run(directLoop(&state, sim.providers())));
}
BENCHMARK(DirectCall)->UseRealTime();

Task<void> activationLoop(benchmark::State* state, Providers providers) {
  Journal journal;
  ActorRuntime runtime(providers, ActorOptions{.activationsMax = 10'000'000});
  registerActors(runtime, journal);
  co_await activateLoop(state, runtime);
}

void Activation(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1, .stepsPerInstantMax = kBenchStepsPerInstantMax});
  countCalls(state, sim.run(activationLoop(&state, sim.providers())));
}
BENCHMARK(Activation)->UseRealTime();

Task<void> clusterActivationLoop(benchmark::State* state, SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);
  co_await activateLoop(state, *cluster->runtimes["h1"]);
}

// A bounded number of keys: every lease a host holds is renewed every renewInterval.
void SimClusterActivation(benchmark::State& state) { inCluster(state, clusterActivationLoop); }
BENCHMARK(SimClusterActivation)->UseRealTime()->Iterations(16);

Task<void> stateLoop(benchmark::State* state, Providers providers, moonpool::SimStorage* disk) {
  moonpool::actors::StorageStateStore store(disk->disk("bench"));
  co_await depositLoop(state, store, providers);
}

void StateWrite(benchmark::State& state) {
  Simulation sim(SimOptions{.seed = 1, .stepsPerInstantMax = kBenchStepsPerInstantMax});
  moonpool::Timeline timeline(sim.executor());
  moonpool::SimStorage storage(sim.executor(), sim.random(), timeline,
                               moonpool::StorageOptions::quiet());
  countCalls(state, sim.run(stateLoop(&state, sim.providers(), &storage)));
}
BENCHMARK(StateWrite)->UseRealTime();

}  // namespace

int batchCalls = 64;

}  // namespace actortest

int main(int argc, char** argv) {
  if (const char* calls = std::getenv("MOONPOOL_BENCH_CALLS")) {
    const int parsed = std::atoi(calls);
    if (parsed <= 0) {
      std::fprintf(stderr, "MOONPOOL_BENCH_CALLS=%s: expected a positive number of calls\n",
                   calls);
      return 2;
    }
    actortest::batchCalls = parsed;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
