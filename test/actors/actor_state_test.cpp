// Goal: ActorState<T> (moonpool/actors/state.h) keeps a [[moonpool::message]] durable
// through StorageStateStore with etags: an activation starts from the last successful
// write (after a deactivation, and after a crash of the disk's machine); a write with a
// stale etag (a second writer, a wiped disk) fails with kStateConflict and changes nothing;
// a write cut by a crash leaves the previous state; a corrupted state file is read from its
// copy, and one corrupted with its copy fails the activation with a clear error; the codec
// rejects malformed bytes.
// Method: the Wallet actor of counter_actor.h on a seeded Simulation with a SimStorage
// (quiet: no random faults; crash() and wipe() are called at chosen points).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "actor_testing.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/timeline.h"
#include "support/co_assert.h"

namespace actortest {
namespace {

using moonpool::SimStorage;
using moonpool::StorageOptions;
using moonpool::StorageProvider;
using moonpool::actors::ActorState;
using moonpool::actors::MessageCodec;
using moonpool::actors::StorageStateStore;

constexpr char kNode[] = "node";

// One machine's disk in a simulation; `scenario(providers, storage)` runs inside it.
template <typename Scenario>
void runWithDisk(std::uint64_t seed, Scenario scenario) {
  Simulation sim(SimOptions{.seed = seed});
  moonpool::Timeline timeline(sim.executor());
  SimStorage storage(sim.executor(), sim.random(), timeline, StorageOptions::quiet());
  RunOutcome outcome = sim.run(scenario(sim.providers(), storage));
  ASSERT_TRUE(outcome.ok()) << "seed " << seed << ": " << outcome.message;
}

void addWallet(ActorRuntime& runtime, StorageStateStore& store) {
  runtime.setStateStore(store);
  runtime.add<Wallet>([](ActorContext& context) { return std::make_unique<Wallet>(context); });
}

Task<void> survives(Providers providers, SimStorage& storage) {
  {
    StorageStateStore store(storage.disk(kNode));
    ActorRuntime runtime(providers);
    addWallet(runtime, store);
    ActorRef<Wallet> wallet = runtime.ref<Wallet>("w");
    EXPECT_EQ(co_await wallet.deposit(5), 5);
    EXPECT_EQ(co_await wallet.deposit(7), 12);
    EXPECT_EQ(co_await runtime.deactivateAll(), 1u);
    EXPECT_EQ(co_await wallet.balance(), 12) << "reactivated from the stored state";
    EXPECT_EQ(co_await wallet.etag(), 2u);
  }
  // The machine crashes and reboots: a new store and runtime over the same disk.
  storage.crash(kNode);
  StorageStateStore store(storage.disk(kNode));
  ActorRuntime runtime(providers);
  addWallet(runtime, store);
  EXPECT_EQ(co_await runtime.ref<Wallet>("w").balance(), 12);
  EXPECT_EQ(co_await runtime.ref<Wallet>("w").etag(), 2u);
  EXPECT_EQ(co_await runtime.ref<Wallet>("other").balance(), 0) << "never written: T{}";
}

TEST(ActorStateTest, AnActivationStartsFromTheLastSuccessfulWrite) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) runWithDisk(seed, survives);
}

Task<std::optional<ActorFailure>> writeFailure(ActorState<Purse>& state) {
  try {
    co_await state.write();
  } catch (const ActorError& error) {
    co_return error.failure();
  }
  co_return std::nullopt;
}

Task<void> staleEtags(Providers providers, SimStorage& storage) {
  StorageStateStore store(storage.disk(kNode));
  ActorRuntime runtime(providers);
  runtime.setStateStore(store);
  // Two activations of one key (what the directory must prevent), each with its state.
  ActorContext first(runtime, "actortest::Wallet", "w");
  ActorContext second(runtime, "actortest::Wallet", "w");
  ActorState<Purse> a(first);
  ActorState<Purse> b(second);
  co_await a.load();
  co_await b.load();
  a.value().balance = 1;
  EXPECT_EQ(co_await writeFailure(a), std::nullopt);
  EXPECT_EQ(a.etag(), 1u);
  b.value().balance = 2;
  EXPECT_EQ(co_await writeFailure(b), ActorFailure::kStateConflict);
  EXPECT_EQ(b.etag(), 0u) << "a refused write changes nothing";
  ActorState<Purse> reader(first);
  co_await reader.load();
  EXPECT_EQ(reader.value().balance, 1);
  EXPECT_EQ(reader.etag(), 1u);
  // A wiped disk: the holder of etag 1 conflicts instead of silently recreating the state.
  storage.wipe(kNode);
  a.value().balance = 3;
  EXPECT_EQ(co_await writeFailure(a), ActorFailure::kStateConflict);
  co_await reader.load();
  EXPECT_EQ(reader.etag(), 0u) << "the wipe lost the state";
  EXPECT_EQ(reader.value().balance, 0);
}

TEST(ActorStateTest, AStaleEtagIsAConflictAndChangesNothing) {
  runWithDisk(1, staleEtags);
}

// A crash at each point of a write: an acknowledged write is never lost, and an
// unacknowledged one leaves the previous state or (its rename done, its answer lost) the
// new one; the file is never torn.
Task<void> crashDuringWrite(Providers providers, SimStorage& storage) {
  int acknowledged = 0;
  int lost = 0;
  for (int offsetUs = 0; offsetUs < 40; ++offsetUs) {
    const std::string owner = "node-" + std::to_string(offsetUs);
    std::optional<bool> acked;
    {
      StorageStateStore store(storage.disk(owner));
      ActorRuntime runtime(providers);
      addWallet(runtime, store);
      ActorRef<Wallet> wallet = runtime.ref<Wallet>("w");
      co_await wallet.deposit(5);
      auto pending = providers.tasks().spawn("deposit 7", wallet.deposit(7));
      co_await providers.time().sleep(std::chrono::microseconds(offsetUs));
      storage.crash(owner);
      try {
        co_await pending.join();
        acked = true;
      } catch (const ActorError& error) {
        EXPECT_EQ(error.failure(), ActorFailure::kStateIo) << error.what();
        acked = false;
      }
    }
    StorageStateStore store(storage.disk(owner));
    ActorRuntime runtime(providers);
    addWallet(runtime, store);
    const int64_t balance = co_await runtime.ref<Wallet>("w").balance();
    if (*acked) {
      EXPECT_EQ(balance, 12) << "an acknowledged write survives; crash at +" << offsetUs << "us";
      ++acknowledged;
    } else {
      EXPECT_TRUE(balance == 5 || balance == 12) << balance << " at +" << offsetUs << "us";
      lost += balance == 5;
    }
  }
  EXPECT_GT(acknowledged, 0) << "some crashes came after the write";
  EXPECT_GT(lost, 0) << "some crashes cut the write";
}

TEST(ActorStateTest, ACrashNeverLosesAnAcknowledgedWrite) {
  runWithDisk(3, crashDuringWrite);
}

Task<void> writeFile(StorageProvider& disk, std::string path, std::string bytes) {
  auto file = co_await disk.open(path, moonpool::OpenMode::kCreateTruncate);
  EXPECT_TRUE(file.ok());
  if (!file.ok()) co_return;
  EXPECT_TRUE((co_await (*file)->write(0, std::as_bytes(std::span(bytes)))).ok());
  EXPECT_TRUE((co_await (*file)->sync()).ok());
}

Task<void> corruptFiles(Providers providers, SimStorage& storage) {
  StorageProvider& disk = storage.disk(kNode);
  StorageStateStore store(disk);
  ActorRuntime runtime(providers);
  addWallet(runtime, store);
  co_await runtime.ref<Wallet>("good").deposit(9);
  // One flipped byte in a valid state file fails its CRC: the state is read from its copy.
  const std::string goodPath = StorageStateStore::fileName("actortest::Wallet/'good'/state");
  EXPECT_EQ(goodPath, "actor-state-actortest%3A%3AWallet%2F%27good%27%2Fstate");
  for (const std::string& path : {goodPath, goodPath + ".copy"}) {
    auto file = co_await disk.open(path, moonpool::OpenMode::kOpenExisting);
    CO_ASSERT_TRUE(file.ok());
    std::string record(256, '\0');
    auto got = co_await (*file)->read(0, std::as_writable_bytes(std::span(record)));
    CO_ASSERT_TRUE(got.ok());
    record.resize(*got);
    record[record.size() / 2] ^= 0x10;
    co_await writeFile(disk, path, record);
    co_await runtime.deactivateAll();
    if (path == goodPath) {
      EXPECT_EQ(co_await runtime.ref<Wallet>("good").balance(), 9) << "read from the copy";
    }
  }
  // Both corrupt: the activation fails.
  std::string message;
  EXPECT_EQ(co_await failureOf(runtime.ref<Wallet>("good").balance(), &message),
            ActorFailure::kActivationFailed);
  EXPECT_NE(message.find("is corrupt: CRC"), std::string::npos) << message;
  EXPECT_NE(message.find("its copy too"), std::string::npos) << message;
  // Garbage of every short length.
  for (std::size_t length : {0, 3, 20, 40}) {
    co_await writeFile(disk, StorageStateStore::fileName("actortest::Wallet/'junk'/state"),
                       std::string(length, 'x'));
    message.clear();
    EXPECT_EQ(co_await failureOf(runtime.ref<Wallet>("junk").balance(), &message),
              ActorFailure::kActivationFailed);
    EXPECT_NE(message.find("is corrupt"), std::string::npos) << message;
    EXPECT_NE(message.find("it has no copy"), std::string::npos) << message;
  }
  EXPECT_EQ(runtime.activationCount(), 0u);
}

TEST(ActorStateTest, ACorruptStateFileFailsTheActivationClearly) {
  runWithDisk(1, corruptFiles);
}

TEST(ActorStateTest, TheCodecRejectsBytesThatAreNotTheMessage) {
  Purse purse{.balance = 42, .history = {"a", "b"}};
  std::string bytes = MessageCodec<Purse>::encode(purse);
  Purse back;
  MessageCodec<Purse>::decode(bytes, back);
  EXPECT_EQ(back.balance, 42);
  EXPECT_EQ(back.history, purse.history);
  for (std::string bad : {std::string("abc"), bytes.substr(0, 8), std::string(16, '\xff')}) {
    try {
      MessageCodec<Purse>::decode(bad, back);
      ADD_FAILURE() << "decoded " << bad.size() << " bad bytes";
    } catch (const ActorError& error) {
      EXPECT_EQ(error.failure(), ActorFailure::kStateCorrupt) << error.what();
    }
  }
}

}  // namespace
}  // namespace actortest
