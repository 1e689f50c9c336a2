// Goal: actors across processes (moonpool/actors/cluster.h): ActorRef<T> calls from any host
// reach the one activation of a key wherever the directory placed it (turns hold across
// processes: three hosts each adding 1 three times concurrently give 9); a key whose host
// dies is re-placed once its lease has run out; a host partitioned from the directory stops
// serving before the key is placed elsewhere, so at most one activation of a key is ever
// live (a ghost registry the actors keep); and the broken variant without leases is caught
// by that same check.
// Method: a simulated world (quiet network) with a directory process and three actor hosts
// over the production RPC stack; a driver on the root kills and partitions; the Counter
// actor of counter_actor.h counts its live activations over every process.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actor_cluster_testing.h"
#include "moonpool/actors/cluster.h"
#include "moonpool/combinators.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "moonpool/rpc/host.h"
#include "moonpool/sim/world.h"
#include "moonpool/task_function.h"
#include "support/co_assert.h"

namespace actortest {
namespace {

using namespace std::chrono_literals;

Task<int64_t> addThrice(ActorRuntime* runtime, std::string key) {
  ActorRef<Counter> counter = runtime->ref<Counter>(key);
  auto [a, b, c] = co_await moonpool::whenAll(counter.add(1), counter.add(1), counter.add(1));
  co_return std::max({a, b, c});
}

Task<void> everyHostAdds(SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);  // the directory's start-up wait
  CO_ASSERT_TRUE(cluster->runtimes.size() == 3);
  auto [x, y, z] = co_await moonpool::whenAll(addThrice(cluster->runtimes["h1"], "shared"),
                                              addThrice(cluster->runtimes["h2"], "shared"),
                                              addThrice(cluster->runtimes["h3"], "shared"));
  EXPECT_EQ(std::max({x, y, z}), 9) << "nine add(1) calls from three hosts give 9";
  EXPECT_EQ(co_await cluster->runtimes["h2"]->ref<Counter>("shared").get(), 9);
  EXPECT_EQ(cluster->journal.liveMax, 1);
  int activations = 0;
  for (const std::string& line : cluster->journal.lines) activations += line == "activate 'shared'";
  EXPECT_EQ(activations, 1) << "one activation served every host";
  std::uint64_t remote = 0;
  for (const auto& [name, member] : cluster->members) remote += member->stats().remoteCalls;
  EXPECT_GE(remote, 6u) << "two hosts' calls went to the third";
}

// Finds the host holding `key`'s lease (the process name), or "".
std::string holderOf(Cluster* cluster, const std::string& key) {
  for (const auto& [name, member] : cluster->members) {
    if (member->holds(ActorRef<Counter>::kTypeName, key)) return name;
  }
  return "";
}

ProcessId idOf(SimWorld* world, const std::string& name) {
  for (const moonpool::ProcessInfo& info : world->processes()) {
    if (info.name == name) return info.id;
  }
  return 0;
}

// Any host other than `name`.
std::string otherThan(const std::string& name) { return name == "h1" ? "h2" : "h1"; }

Task<void> hostDies(SimWorld* world, Cluster* cluster) {
  moonpool::TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(3s);
  EXPECT_EQ(co_await cluster->runtimes["h2"]->ref<Counter>("k").add(5), 5);
  const std::string holder = holderOf(cluster, "k");
  CO_ASSERT_TRUE(!holder.empty());
  world->kill(idOf(world, holder), moonpool::RebootKind::kCrash);
  const moonpool::TimePoint killedAt = time.now();
  // A call from another host waits out the dead host's lease, then lands on a new one.
  ActorRuntime* caller = cluster->runtimes[otherThan(holder)];
  EXPECT_EQ(co_await caller->ref<Counter>("k").add(1), 1) << "re-placed: a fresh activation";
  EXPECT_GE(time.now() - killedAt, 2s) << "not before the lease ran out";
  EXPECT_FALSE(holderOf(cluster, "k").empty());
  EXPECT_NE(holderOf(cluster, "k"), holder);
  EXPECT_EQ(cluster->journal.liveMax, 1);
  CO_ASSERT_TRUE(cluster->directory != nullptr);
  EXPECT_GE(cluster->directory->stats().replacements, 1u);
}

TEST(ActorClusterTest, AKeyWhoseHostDiesIsReplacedAfterItsLease) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) runCluster(seed, Fencing::kLeases, hostDies);
}

// Durable state follows the key: a wallet's host dies, the key comes back elsewhere and
// loads the last successful write from the cluster's state owner.
Task<void> stateFollowsTheKey(SimWorld* world, Cluster* cluster) {
  co_await world->rootProviders().time().sleep(3s);
  ActorRef<Wallet> wallet = cluster->runtimes["h1"]->ref<Wallet>("w");
  EXPECT_EQ(co_await wallet.deposit(5), 5);
  EXPECT_EQ(co_await wallet.deposit(7), 12);
  std::string holder;
  for (const auto& [name, member] : cluster->members) {
    if (member->holds(ActorRef<Wallet>::kTypeName, "w")) holder = name;
  }
  CO_ASSERT_TRUE(!holder.empty());
  world->kill(idOf(world, holder), moonpool::RebootKind::kCrash);
  ActorRuntime* caller = cluster->runtimes[otherThan(holder)];
  EXPECT_EQ(co_await caller->ref<Wallet>("w").deposit(1), 13) << "the state moved with the key";
  // Five writes: two deposits, one more, and a fencing write per activation (state.h).
  EXPECT_EQ(co_await caller->ref<Wallet>("w").etag(), 5u);
}

TEST(ActorClusterTest, DurableStateFollowsAReplacedKey) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    runCluster(seed, Fencing::kLeases, stateFollowsTheKey);
  }
}

// The holder is cut from the directory (not from the other hosts): it keeps serving until
// its lease ends and then stops; only after that does the key come back elsewhere.
Task<void> holderPartitioned(SimWorld* world, Cluster* cluster) {
  moonpool::TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(3s);
  EXPECT_EQ(co_await cluster->runtimes["h3"]->ref<Counter>("p").add(2), 2);
  const std::string holder = holderOf(cluster, "p");
  CO_ASSERT_TRUE(!holder.empty());
  const IpAddress holderIp = world->info(idOf(world, holder)).ip;
  world->network().partitionBoth(holderIp, kDirectoryIp);
  // Calls from both other hosts keep going (the second one looks the key up afresh after the
  // directory has seen the holder fail).
  std::vector<ActorRuntime*> callers;
  for (const auto& [name, runtime] : cluster->runtimes) {
    if (name != holder) callers.push_back(runtime);
  }
  int64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    try {
      last = co_await callers[i % 2 == 0 || i < 25 ? 0 : 1]->ref<Counter>("p").add(1);
    } catch (const moonpool::Exception& error) {
      ADD_FAILURE() << "call " << i << ": " << error.what();
    }
    co_await time.sleep(100ms);
  }
  EXPECT_NE(holderOf(cluster, "p"), holder) << "re-placed after the partition";
  EXPECT_FALSE(cluster->members[holder]->holds(ActorRef<Counter>::kTypeName, "p"));
  EXPECT_EQ(cluster->journal.liveMax, 1) << "never two activations at once";
  EXPECT_GT(last, 0);
  world->network().healAll();
}

TEST(ActorClusterTest, APartitionedHolderStopsBeforeTheKeyMoves) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    runCluster(seed, Fencing::kLeases, holderPartitioned);
  }
}

// The same partition without leases (Fencing::kNone): the directory re-places the key while
// the old activation still serves, and the ghost registry's check fails.
TEST(ActorClusterTest, WithoutLeasesTheSingleActivationCheckFails) {
  bool caught = false;
  for (std::uint64_t seed = 1; seed <= 3 && !caught; ++seed) {
    testing::TestPartResultArray failures;
    {
      testing::ScopedFakeTestPartResultReporter reporter(
          testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      runCluster(seed, Fencing::kNone, holderPartitioned);
    }
    for (int i = 0; i < failures.size(); ++i) {
      caught |= std::string(failures.GetTestPartResult(i).message()).find(
                    "never two activations at once") != std::string::npos;
    }
  }
  EXPECT_TRUE(caught) << "the broken directory went unnoticed";
}

// A turn that outlives its activation: h1 holds "z" and runs relay(["z"]) (a 3.5 s sleep, then
// a call to z itself); h1 is cut from the directory until its lease ends (the activation is
// dropped, the turn sleeps on) and the directory lets the key go; then h1 claims z again
// for a new activation. The old turn must not act for z any more: its self-call is not
// sent (kNotHere), and the call, routed again, reaches the new activation, where the
// self-call is refused (kDeadlock). Before turns were fenced per activation, the old turn's
// self-call ran in the new activation and answered (the bank's seed 842).
Task<std::string> relayToItself(ActorRuntime* runtime) {
  try {
    const int64_t value = co_await runtime->ref<Counter>("z").relay({"z"}, 3500);
    co_return "answered " + std::to_string(value);
  } catch (const moonpool::Exception& error) {  // from a remote turn: the failure's name
    const std::string deadlock(
        moonpool::actors::actorFailureName(moonpool::actors::ActorFailure::kDeadlock));
    const std::string what = error.what();
    co_return what.find(deadlock + ":") != std::string::npos ? deadlock : what;
  }
}

Task<void> turnOutlivesItsLease(SimWorld* world, Cluster* cluster) {
  moonpool::TimeProvider& time = world->rootProviders().time();
  co_await time.sleep(3s);
  ActorRuntime* h1 = cluster->runtimes["h1"];
  EXPECT_EQ(co_await h1->ref<Counter>("z").add(1), 1);
  CO_ASSERT_TRUE(holderOf(cluster, "z") == "h1");  // prefer-local
  auto relay = world->rootProviders().tasks().spawn("relay", relayToItself(h1));
  co_await time.sleep(100ms);
  world->network().partitionBoth(hostIp(0), kDirectoryIp);
  co_await time.sleep(2400ms);  // past the lease (2 s) and the directory's hold (2.2 s)
  EXPECT_TRUE(holderOf(cluster, "z").empty()) << "h1 let the key go";
  world->network().healAll();
  co_await time.sleep(700ms);  // the directory's monitor sees h1 again
  EXPECT_EQ(co_await h1->ref<Counter>("z").add(1), 1) << "a new activation";
  EXPECT_EQ(holderOf(cluster, "z"), "h1") << "the same host holds the key again";
  EXPECT_EQ(co_await relay.join(), "deadlock");
  EXPECT_GE(h1->stats().drops, 1u);
}

TEST(ActorClusterTest, ATurnThatOutlivesItsActivationCannotActForTheKey) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    runCluster(seed, Fencing::kLeases, turnOutlivesItsLease);
  }
}

TEST(ActorClusterTest, CallsFromEveryHostShareOneActivation) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    runCluster(seed, Fencing::kLeases, everyHostAdds);
  }
}

}  // namespace
}  // namespace actortest
