// Shared by the actor cluster tests and benchmarks: a simulated world with a directory
// process and three actor hosts (h1..h3) over the production RPC stack, and the state the
// processes share with the test.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actor_testing.h"
#include "moonpool/actors/cluster.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/rpc/host.h"
#include "moonpool/sim/world.h"
#include "moonpool/task_function.h"

namespace actortest {

using moonpool::IpAddress;
using moonpool::NetAddress;
using moonpool::ProcessContext;
using moonpool::ProcessId;
using moonpool::ProcessSpec;
using moonpool::SimWorld;
using moonpool::WorldOptions;
using moonpool::actors::ActorCluster;
using moonpool::actors::DirectoryService;
using moonpool::actors::Fencing;
using namespace std::chrono_literals;

inline constexpr std::uint16_t kPort = 7000;
inline constexpr IpAddress kDirectoryIp = IpAddress::fromOctets(10, 0, 1, 1);
inline constexpr const char* kHostNames[] = {"h1", "h2", "h3"};

inline IpAddress hostIp(int i) {
  return IpAddress::fromOctets(10, 0, 1, static_cast<std::uint8_t>(2 + i));
}

inline moonpool::rpc::PeerOptions fastPeers() {
  moonpool::rpc::PeerOptions peer;
  peer.pingInterval = 100ms;
  peer.pingTimeout = 200ms;
  peer.connectTimeout = 300ms;
  peer.callTimeout = 8s;
  return peer;
}

// What the processes share with the test (one OS process: plain pointers).
struct Cluster {
  Journal journal;
  Fencing fencing = Fencing::kLeases;
  std::map<std::string, ActorRuntime*> runtimes;  // live hosts' runtimes, by process name
  std::map<std::string, ActorCluster*> members;   // and their cluster membership
  DirectoryService* directory = nullptr;
};

inline Task<void> directoryMain(ProcessContext& context, Cluster* cluster) {
  Providers p = context.providers();
  // The cluster's states live on this process's disk too (declared before the host: its
  // calls, a write holding the store's lock, go first).
  moonpool::actors::StorageStateStore states(p.storage());
  auto host = moonpool::rpc::Host::listen(p, NetAddress{IpAddress(), kPort}).orThrow();
  std::vector<NetAddress> hosts;
  for (int i = 0; i < 3; ++i) hosts.push_back(NetAddress{hostIp(i), kPort});
  moonpool::actors::serveStateStore(*host, states);
  DirectoryService directory(p, *host,
                             {.hosts = hosts, .fencing = cluster->fencing, .peer = fastPeers()});
  cluster->directory = &directory;
  struct Clear {
    Cluster* cluster;
    ~Clear() { cluster->directory = nullptr; }
  } clear{cluster};
  co_await host->serve();
}

inline Task<void> hostMain(ProcessContext& context, Cluster* cluster) {
  Providers p = context.providers();
  moonpool::actors::RemoteStateStore states(p, NetAddress{kDirectoryIp, kPort}, fastPeers());
  ActorRuntime runtime(p);
  runtime.setStateStore(states);
  registerActors(runtime, cluster->journal);
  runtime.add<Wallet>([](ActorContext& c) { return std::make_unique<Wallet>(c); });
  auto host = moonpool::rpc::Host::listen(p, NetAddress{IpAddress(), kPort}).orThrow();
  ActorCluster member(runtime, *host,
                      {.self = NetAddress{context.ip(), kPort},
                       .directory = NetAddress{kDirectoryIp, kPort},
                       .peer = fastPeers(),
                       .fencing = cluster->fencing});
  cluster->runtimes[context.name()] = &runtime;
  cluster->members[context.name()] = &member;
  struct Clear {
    Cluster* cluster;
    std::string name;
    ~Clear() {
      cluster->runtimes.erase(name);
      cluster->members.erase(name);
    }
  } clear{cluster, context.name()};
  co_await host->serve();
}

// One seed: a directory and three hosts; `driver(world, cluster)` runs on the root.
template <typename Driver>
void runCluster(std::uint64_t seed, Fencing fencing, Driver driver) {
  Cluster cluster;  // first: the processes' frames write into it as the world ends
  cluster.fencing = fencing;
  Simulation sim(SimOptions{.seed = seed});
  moonpool::SimKjLoop kj(sim.executor());
  SimWorld world(sim, WorldOptions::quiet());
  world.addProcess(ProcessSpec{.name = "directory", .ip = kDirectoryIp,
                               .main = moonpool::bindTask(directoryMain, &cluster)});
  for (int i = 0; i < 3; ++i) {
    world.addProcess(ProcessSpec{.name = kHostNames[i], .ip = hostIp(i),
                                 .main = moonpool::bindTask(hostMain, &cluster)});
  }
  RunOutcome outcome = sim.run(driver(&world, &cluster));
  ASSERT_TRUE(outcome.ok()) << "seed " << seed << ": " << outcome.message;
}

}  // namespace actortest
