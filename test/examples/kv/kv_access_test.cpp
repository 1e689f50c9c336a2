// Goal: the authorization decision runs in simulation too. The KV replica protocol admits
// only cluster members: a peer that is not one (here the root task, at an IP no server
// has) gets RpcFailure kNotAuthorized, not delivered, for every replica call — including
// a claim of the largest epoch, which would otherwise fence the store off for good — while
// the public store service answers it; the cluster keeps acknowledging writes afterwards.
// Method: a quiet simulated cluster of three servers (default security: members are the
// servers' IPs); the root task calls them through KvPeer and the generated remotes.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "kv_service.moonpool.h"
#include "kv_sim.h"
#include "moonpool/assertions/table.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "remote.h"

namespace moonpool::kv {
namespace {

using namespace std::chrono_literals;

constexpr int kReadyAttemptsMax = 100;

struct Seen {
  std::map<std::string, std::string> failures;  // probe -> rpc failure name, or "answered"
  std::map<std::string, bool> delivered;        // probe -> maybe delivered
  std::string putAfter;
};

template <typename T>
void record(Seen* seen, const std::string& probe, const Reply<T>& reply) {
  seen->failures[probe] =
      reply.ok() ? "answered"
                 : (reply.failure ? std::string(rpc::rpcFailureName(*reply.failure)) : reply.error);
  seen->delivered[probe] = reply.delivered == rpc::Delivered::kMaybe;
}

Task<void> intrude(Providers p, Seen* seen) {
  KvPeer backup(p, simServerAddress(kPrimaryId + 1), peerOptions(1s, "intruder", nullptr, nullptr),
                nullptr);
  schema::KvReplicaRemote replica(backup.peer());
  record(seen, "claim max epoch",
         co_await backup.call(replica.claim(std::numeric_limits<std::uint64_t>::max())));
  record(seen, "append", co_await backup.call(replica.append(AppendRequest{})));
  record(seen, "fetch", co_await backup.call(replica.fetch(0)));
  schema::KvStoreRemote storeAtBackup(backup.peer());
  record(seen, "store at backup", co_await backup.call(storeAtBackup.get("k")));

  KvPeer primary(p, simServerAddress(kPrimaryId), peerOptions(1s, "intruder", nullptr, nullptr),
                 nullptr);
  schema::KvStoreRemote store(primary.peer());
  for (int attempt = 0; attempt < kReadyAttemptsMax && seen->putAfter != "ok"; ++attempt) {
    Reply<PutReply> put = co_await primary.call(store.put(Entry{"after", 1, "value"}));
    seen->putAfter = put.ok() ? statusName(put.value->status) : "error: " + put.error;
    if (seen->putAfter != "ok") co_await p.time().sleep(100ms);
  }
}

TEST(KvAccess, TheReplicaServiceRefusesANonMemberInSimulation) {
  resetRunViolations();
  Simulation sim(SimOptions{.seed = 5});
  SimKjLoop kj(sim.executor());
  SimWorld world(sim, WorldOptions::quiet());
  for (std::uint32_t id = 1; id <= kServers; ++id) {
    world.addProcess(ProcessSpec{.name = serverName(id), .ip = simServerAddress(id).ip,
                                 .main = bindTask(runServerProcess,
                                                  simServerConfig(id, nullptr, nullptr))});
  }
  Seen seen;
  RunOutcome outcome = sim.run(intrude(world.rootProviders(), &seen));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(runViolationCount(), 0u);
  for (const char* probe : {"claim max epoch", "append", "fetch"}) {
    EXPECT_EQ(seen.failures[probe], "not authorized") << probe;
    EXPECT_FALSE(seen.delivered[probe]) << probe << ": a refused lookup is never delivered";
  }
  EXPECT_EQ(seen.failures["store at backup"], "answered") << "the store service is public";
  EXPECT_EQ(seen.putAfter, "ok") << "the cluster still acknowledges writes";
}

}  // namespace
}  // namespace moonpool::kv
