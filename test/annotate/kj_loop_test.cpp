// Goal: RPC in a simulation without Cap'n Proto's event loop fails with an error that names
// the missing piece (moonpool::SimKjLoop) and where to create it, not KJ's bare "No event
// loop is running on this thread" (issue 15); with the runner's per-seed loop
// (SimulationBuilder::externalLoop) the same server and generated remote work.
// Method: a simulated world without a SimKjLoop whose process starts an rpc::Host, another
// whose process makes the rpc::Peer a generated EchoRemote needs; then the runner, once
// without and once with externalLoop(&SimKjLoop::make), on a server process and a workload
// calling it through the generated remote.
#include <gtest/gtest.h>

#include <string>

#include "all_types.moonpool.h"
#include "echo_impl.h"
#include "moonpool/error.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/rpc/host.h"
#include "moonpool/rpc/peer.h"
#include "moonpool/runner/runner.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/world.h"
#include "moonpool/task_function.h"

namespace roundtrip {
namespace {

using moonpool::Task;
namespace rpc = moonpool::rpc;

constexpr std::uint16_t kPort = 7300;
constexpr char kNamesTheLoop[] = "needs Cap'n Proto's event loop, and this simulation has "
                                 "none: create a moonpool::SimKjLoop";

Task<void> listen(moonpool::ProcessContext& process, std::string* error) {
  try {
    auto host = rpc::Host::listen(process.providers(), {process.ip(), kPort}).orThrow();
  } catch (const moonpool::Exception& e) {
    *error = e.description();
  }
  co_return;
}

Task<void> makePeer(moonpool::ProcessContext& process, std::string* error) {
  try {
    rpc::Peer peer(process.providers(), {process.ip(), kPort});
    schema::EchoRemote echo(peer);
  } catch (const moonpool::Exception& e) {
    *error = e.description();
  }
  co_return;
}

std::string runWithoutLoop(Task<void> (*main)(moonpool::ProcessContext&, std::string*)) {
  moonpool::Simulation sim(moonpool::SimOptions{.seed = 1});
  moonpool::SimWorld world(sim, moonpool::WorldOptions::quiet());
  std::string error;
  world.addProcess(moonpool::ProcessSpec{.name = "p", .main = moonpool::bindTask(main, &error)});
  EXPECT_TRUE(sim.run(world.allRunning()).ok());
  return error;
}

TEST(KjLoop, AHostWithoutTheLoopNamesSimKjLoop) {
  const std::string error = runWithoutLoop(listen);
  EXPECT_EQ(error.rfind(std::string("rpc::Host::listen ") + kNamesTheLoop, 0), 0u) << error;
  EXPECT_NE(error.find("SimulationBuilder::externalLoop(&moonpool::SimKjLoop::make)"),
            std::string::npos)
      << error;
}

TEST(KjLoop, AGeneratedRemoteWithoutTheLoopNamesSimKjLoop) {
  const std::string error = runWithoutLoop(makePeer);
  EXPECT_EQ(error.rfind(std::string("rpc::Peer ") + kNamesTheLoop, 0), 0u) << error;
}

// Runner: a server process and a workload calling it once through the generated remote.
Task<void> serve(moonpool::ProcessContext& process) {
  EchoImpl impl;
  auto host = rpc::Host::listen(process.providers(), {process.ip(), kPort}).orThrow();
  host->add(schema::EchoServer::kServiceName, kj::heap<schema::EchoServer>(impl));
  co_await host->serve();
}

Task<void> callOnce(moonpool::WorkloadContext& ctx) {
  rpc::Peer peer(ctx.providers(), {ctx.process().peer("echo-1")->ip, kPort});
  const std::optional<std::string> found =
      co_await schema::EchoRemote(peer).find("k", Color::kGreen);
  if (found != std::optional<std::string>("found k")) {
    throw moonpool::Exception(moonpool::ErrorKind::kFailed, "unexpected answer");
  }
}

moonpool::SimulationBuilder echoSimulation() {
  moonpool::SimulationBuilder builder("echo");
  builder.processes(1, "echo", serve)
      .workload(moonpool::Workload{.name = "caller", .run = callOnce})
      .iterations(3);
  return builder;
}

TEST(KjLoop, TheRunnerReportsAMissingLoopAndHostsOnePerSeed) {
  const moonpool::RunReport without = moonpool::runSimulation(echoSimulation());
  ASSERT_EQ(without.seeds.size(), 3u);
  EXPECT_NE(without.seeds[0].message.find(kNamesTheLoop), std::string::npos)
      << without.seeds[0].message;
  const moonpool::RunReport with =
      moonpool::runSimulation(echoSimulation().externalLoop(&moonpool::SimKjLoop::make));
  EXPECT_EQ(with.exitCode(), 0);
  for (const moonpool::SeedResult& seed : with.seeds) EXPECT_EQ(seed.message, "") << seed.seed;
}

}  // namespace
}  // namespace roundtrip
