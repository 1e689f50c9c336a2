// The actor benchmarks over real loopback TCP (actor_bench.cpp lists them all): a generated
// service call and an actor call between rpc::Hosts on 127.0.0.1 in one process, the
// activation of fresh keys through the directory, and state writes on the real disk.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>

#include "actor_bench.h"
#include "moonpool/real/real_executor.h"

namespace actortest {
namespace {

using moonpool::kLoopbackIp;
using moonpool::actors::ClusterOptions;
using moonpool::actors::DirectoryOptions;
using moonpool::RealRuntime;
using moonpool::RealRuntimeOptions;
using moonpool::rpc::Host;

constexpr char kStorageRoot[] = "/tmp/moonpool-actor-bench";

// A fresh storage root each run: the wallets' states of a previous run would be loaded.
RealRuntimeOptions benchRuntime() {
  std::filesystem::remove_all(kStorageRoot);
  return RealRuntimeOptions{.storageRoot = kStorageRoot, .localIp = kLoopbackIp};
}

std::unique_ptr<Host> listenOnLoopback(Providers p) {
  return Host::listen(p, NetAddress{kLoopbackIp, 0}).orThrow();
}

Task<void> realServiceLoop(benchmark::State* state, Providers p) {
  ProbeImpl probe;
  std::unique_ptr<Host> host = listenOnLoopback(p);
  host->add(schema::ProbeServer::kServiceName,
            kj::heap<schema::ProbeServer>(probe, &host->calls()));
  auto serving = p.tasks().spawn("serve", host->serve());  // cancelled as it goes
  moonpool::rpc::Peer peer(p, host->localAddress());
  schema::ProbeRemote remote(peer);
  co_await remote.get();
  for (auto _ : *state) {
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await remote.get());
  }
}

void RealServiceCall(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  countCalls(state, runtime.run(realServiceLoop(&state, runtime.providers())));
}
BENCHMARK(RealServiceCall)->UseRealTime();

// Short leases: a directory places nothing for lease + margin after it starts (leases of a
// previous incarnation may run), a wait each benchmark run pays before its timing starts.
DirectoryOptions realDirectory(NetAddress host) {
  DirectoryOptions options;
  options.hosts = {host};
  options.lease = 500ms;
  options.margin = 50ms;
  return options;
}
ClusterOptions realMember(const Host& self, const Host& directory) {
  ClusterOptions options;
  options.self = self.localAddress();
  options.directory = directory.localAddress();
  options.renewInterval = 100ms;
  return options;
}

// Which loop a loopback cluster runs.
enum class RealLoop : std::uint8_t { kCalls, kActivations };

// A directory and two actor hosts on loopback; h2 is the only host actors are placed on, so
// h1's calls are remote. The same Counter calls as SimActorRemoteCall, or fresh keys.
Task<void> realClusterLoop(benchmark::State* state, Providers p, RealLoop loop) {
  Journal journal;
  std::unique_ptr<Host> directoryHost = listenOnLoopback(p);
  std::unique_ptr<Host> h1Host = listenOnLoopback(p);
  std::unique_ptr<Host> h2Host = listenOnLoopback(p);
  ActorRuntime h1(p);
  ActorRuntime h2(p);
  registerActors(h1, journal);
  registerActors(h2, journal);
  // Declared in this order so that they go in the reverse one: the clusters before their
  // runtimes, the directory and the serving tasks (cancelled) before the hosts.
  auto servingDirectory = p.tasks().spawn("serve directory", directoryHost->serve());
  auto servingH1 = p.tasks().spawn("serve h1", h1Host->serve());
  auto servingH2 = p.tasks().spawn("serve h2", h2Host->serve());
  DirectoryService directory(p, *directoryHost, realDirectory(h2Host->localAddress()));
  ActorCluster member1(h1, *h1Host, realMember(*h1Host, *directoryHost));
  ActorCluster member2(h2, *h2Host, realMember(*h2Host, *directoryHost));
  if (loop == RealLoop::kCalls) {
    co_await getLoop(state, h1.ref<Counter>("bench"));
  } else {
    co_await activateLoop(state, h1);
  }
  if (member1.stats().remoteCalls == 0) state->SkipWithError("no call left h1");
}

void RealActorRemoteCall(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  countCalls(state, runtime.run(realClusterLoop(&state, runtime.providers(), RealLoop::kCalls)));
}
BENCHMARK(RealActorRemoteCall)->UseRealTime();

void RealActivation(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  countCalls(state,
             runtime.run(realClusterLoop(&state, runtime.providers(), RealLoop::kActivations)));
}
// A bounded number of keys: every lease a host holds is renewed every renewInterval.
BENCHMARK(RealActivation)->UseRealTime()->Iterations(16);

Task<void> realStateLoop(benchmark::State* state, Providers p) {
  moonpool::actors::StorageStateStore store(p.storage());
  co_await depositLoop(state, store, p);
}

void RealStateWrite(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  countCalls(state, runtime.run(realStateLoop(&state, runtime.providers())));
}
BENCHMARK(RealStateWrite)->UseRealTime();

}  // namespace
}  // namespace actortest
