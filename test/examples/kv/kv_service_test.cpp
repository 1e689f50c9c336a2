// Goal: the KV servers answer every bad or misdirected request with a clear status, over
// the real protocol (Cap'n Proto RPC through the generated remotes): requests out of
// bounds are kRejected in any phase, a store call at a backup is kNotPrimary, a replica
// call at the primary kNotBackup, an append of an old epoch kStale, a fetch beyond the log
// kBehind, a claim or append whose epoch is out of bounds (2^64 - 1, or a jump beyond
// kEpochStepMax) kRejected, and an unknown service name an RpcError kUnknownService — and
// the cluster keeps serving afterwards.
// Method: a quiet simulated cluster of three servers; the root task calls them through
// KvPeer and the generated KvStoreRemote / KvReplicaRemote, records every answer, and
// checks at the end that a good PUT is still acknowledged and read back.
#include <gtest/gtest.h>

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

// The status of each probe, by name; "error: <failure>" when the call itself failed.
using Answers = std::map<std::string, std::string>;

template <typename T>
std::string describe(const Reply<T>& reply) {
  if (reply.ok()) return statusName(reply.value->status);
  if (reply.failure) return "error: " + std::string(rpc::rpcFailureName(*reply.failure));
  return "error: " + reply.error;
}

Task<void> probeStore(Providers p, Answers* out) {
  KvPeer primary(p, simServerAddress(kPrimaryId), peerOptions(1s, "probe", nullptr, nullptr),
                 nullptr);
  schema::KvStoreRemote store(primary.peer());
  (*out)["put empty key"] = describe(co_await primary.call(store.put(Entry{"", 1, "v"})));
  (*out)["put long key"] = describe(
      co_await primary.call(store.put(Entry{std::string(kKeyBytesMax + 1, 'k'), 1, "v"})));
  (*out)["put long value"] = describe(
      co_await primary.call(store.put(Entry{"k", 1, std::string(kValueBytesMax + 1, 'v')})));
  (*out)["put version 0"] = describe(co_await primary.call(store.put(Entry{"k", 0, "v"})));
  (*out)["get long key"] =
      describe(co_await primary.call(store.get(std::string(kKeyBytesMax + 1, 'k'))));
  // A good write, once the primary has recovered (both backups promised an epoch).
  std::string good;
  for (int attempt = 0; attempt < kReadyAttemptsMax && good != "ok"; ++attempt) {
    good = describe(co_await primary.call(store.put(Entry{"good", 1, "value"})));
    if (good != "ok") co_await p.time().sleep(100ms);
  }
  (*out)["put good"] = good;
  schema::KvReplicaRemote replicaAtPrimary(primary.peer());
  (*out)["claim at primary"] = describe(co_await primary.call(replicaAtPrimary.claim(99)));
  (*out)["append at primary"] =
      describe(co_await primary.call(replicaAtPrimary.append(AppendRequest{})));
  (*out)["fetch at primary"] = describe(co_await primary.call(replicaAtPrimary.fetch(0)));
  schema::KvStoreRemote nowhere(primary.peer(), {}, "moonpool::kv::NoSuchService");
  (*out)["unknown service"] = describe(co_await primary.call(nowhere.get("good")));
  Reply<GetReply> read = co_await primary.call(store.get("good"));
  (*out)["get good"] = describe(read);
  if (read.ok()) (*out)["get good value"] = read.value->value;
}

Task<void> probeBackup(Providers p, Answers* out) {
  KvPeer backup(p, simServerAddress(kPrimaryId + 1), peerOptions(1s, "probe", nullptr, nullptr),
                nullptr);
  schema::KvStoreRemote store(backup.peer());
  schema::KvReplicaRemote replica(backup.peer());
  (*out)["put at backup"] = describe(co_await backup.call(store.put(Entry{"k", 1, "v"})));
  (*out)["get at backup"] = describe(co_await backup.call(store.get("k")));
  AppendRequest tooMany;
  tooMany.epoch = 1000;
  tooMany.entries.assign(kEntriesPerMessageMax + 1, Entry{"k", 1, "v"});
  (*out)["append too many"] = describe(co_await backup.call(replica.append(tooMany)));
  AppendRequest outOfBounds{
      .epoch = 1000, .from = 0, .prevHash = 0, .entries = {Entry{"", 1, "v"}}};
  (*out)["append bad entry"] = describe(co_await backup.call(replica.append(outOfBounds)));
  // Epoch 0 is below whatever the recovered primary claimed.
  (*out)["append old epoch"] =
      describe(co_await backup.call(replica.append(AppendRequest{})));
  (*out)["fetch beyond"] = describe(co_await backup.call(replica.fetch(1'000'000)));
  // Epochs that would end the store's epoch space (nothing above 2^64 - 1) or jump far
  // beyond any primary's: refused, and the primary keeps its epoch (probeAfter).
  (*out)["claim 2^64-1"] =
      describe(co_await backup.call(replica.claim(std::numeric_limits<std::uint64_t>::max())));
  (*out)["claim beyond the step"] =
      describe(co_await backup.call(replica.claim(kEpochStepMax + 1000)));
  AppendRequest beyondMax{.epoch = kEpochMax + 1, .from = 0, .prevHash = 0, .entries = {}};
  (*out)["append beyond kEpochMax"] = describe(co_await backup.call(replica.append(beyondMax)));
}

Task<void> probeAfter(Providers p, Answers* out) {
  KvPeer primary(p, simServerAddress(kPrimaryId), peerOptions(1s, "probe", nullptr, nullptr),
                 nullptr);
  schema::KvStoreRemote store(primary.peer());
  (*out)["put after hostile epochs"] =
      describe(co_await primary.call(store.put(Entry{"after", 1, "v"})));
}

Task<void> probeAll(SimWorld* world, Answers* answers) {
  Providers root = world->rootProviders();
  co_await probeStore(root, answers);
  co_await probeBackup(root, answers);
  co_await probeAfter(root, answers);
}

TEST(KvService, BadAndMisdirectedRequestsGetClearAnswers) {
  resetRunViolations();
  Simulation sim(SimOptions{.seed = 3});
  SimKjLoop kj(sim.executor());
  SimWorld world(sim, WorldOptions::quiet());
  for (std::uint32_t id = 1; id <= kServers; ++id) {
    ServerConfig config = simServerConfig(id, nullptr, nullptr);
    // The probes call the replica service too (members only): admit the root task's IP.
    config.security.extraMemberIps = {world.rootProviders().network().localIp()};
    world.addProcess(ProcessSpec{.name = serverName(id), .ip = simServerAddress(id).ip,
                                 .main = bindTask(runServerProcess, std::move(config))});
  }
  Answers answers;
  RunOutcome outcome = sim.run(probeAll(&world, &answers));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(runViolationCount(), 0u);
  const Answers expected = {
      {"put empty key", "rejected"},       {"put long key", "rejected"},
      {"put long value", "rejected"},      {"put version 0", "rejected"},
      {"get long key", "rejected"},        {"put good", "ok"},
      {"claim at primary", "not_backup"},  {"append at primary", "not_backup"},
      {"fetch at primary", "not_backup"},  {"unknown service", "error: unknown service"},
      {"get good", "ok"},                  {"get good value", "value"},
      {"put at backup", "not_primary"},    {"get at backup", "not_primary"},
      {"append too many", "rejected"},     {"append bad entry", "rejected"},
      {"append old epoch", "stale"},       {"fetch beyond", "behind"},
      {"claim 2^64-1", "rejected"},        {"claim beyond the step", "rejected"},
      {"append beyond kEpochMax", "rejected"}, {"put after hostile epochs", "ok"},
  };
  for (const auto& [probe, want] : expected) {
    EXPECT_EQ(answers[probe], want) << probe;
  }
}

}  // namespace
}  // namespace moonpool::kv
