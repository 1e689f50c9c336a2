// Goal: every fault of SimStorage fires when asked to, is recorded in the Timeline, and has
// the application-visible effect real disks have: unsynced writes lost or torn by a crash
// (synced ones intact), failed syncs that leave data volatile, corruption on write and
// (sticky) on read, misdirected writes and reads, lost writes, stalls, the latency/iops/
// bandwidth model; same seed gives the same fault timeline; no fault ever draws randomness
// when its probability is zero.
// Method: each test turns one fault family on (mostly at probability 1, which draws nothing
// itself) over StorageOptions::quiet(), runs a small scenario in a Simulation and checks both
// the bytes the application sees and the Timeline's disk.* records.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "moonpool/sim/sim_storage.h"
#include "support/co_assert.h"
#include "support/storage_test_util.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using namespace storage_test;

StorageOptions fastWith(void (*tweak)(StorageOptions::Faults&)) {
  StorageOptions options = StorageOptions::quiet();
  tweak(options.faults);
  return options;
}

// Writes `text` to a new file "f" without syncing, crashes, and reads "f" back.
Task<void> writeCrashRead(SimStorage& storage, std::string text, std::string* after) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreateNew);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, text));
  storage.crash("p1");
  *after = co_await fileText(disk, "f");
}

TEST(SimStorageFaultsTest, UnsyncedWriteIsLostOnCrash) {
  SimRig rig(1, StorageOptions::quiet());  // crashTear 0: unsynced writes always vanish
  std::string after;
  rig.run(writeCrashRead(rig.storage, "never synced", &after));
  EXPECT_EQ(after, "") << "the file exists (names are durable) but its data is gone";
  EXPECT_EQ(rig.faults("disk.lost_unsynced"), 1u);
  EXPECT_EQ(rig.faults("disk.crash"), 1u);
}

TEST(SimStorageFaultsTest, UnsyncedWriteIsTornOnCrash) {
  std::string data;
  for (int i = 0; i < 8 * 512; ++i) data += static_cast<char>('A' + i / 512);  // 8 sectors
  std::set<std::size_t> keptSizes;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SimRig rig(seed, fastWith([](StorageOptions::Faults& f) { f.crashTear = Probability{1}; }));
    std::string after;
    rig.run(writeCrashRead(rig.storage, data, &after));
    ASSERT_EQ(rig.faults("disk.torn_write"), 1u);
    // A torn write keeps a whole-sector prefix: 1..8 sectors, in order.
    ASSERT_EQ(after.size() % 512, 0u);
    ASSERT_GE(after.size(), 512u);
    EXPECT_EQ(after, data.substr(0, after.size()));
    keptSizes.insert(after.size());
  }
  EXPECT_GE(keptSizes.size(), 3u) << "the torn prefix length should vary across seeds";
  EXPECT_LT(*keptSizes.begin(), data.size()) << "some seed should really tear the write";
}

Task<void> syncThenCrash(SimStorage& storage, std::string* after) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "synced data"));
  CO_ASSERT_OK(co_await (*file)->sync());
  CO_ASSERT_OK(co_await writeText(**file, 0, "SYNCED"));  // an unsynced overwrite
  storage.crash("p1");
  *after = co_await fileText(disk, "f");
}

TEST(SimStorageFaultsTest, SyncedWriteSurvivesCrash) {
  // crashTear 0: the unsynced overwrite is lost, the synced data is back.
  SimRig rig(2, StorageOptions::quiet());
  std::string after;
  rig.run(syncThenCrash(rig.storage, &after));
  EXPECT_EQ(after, "synced data");
  EXPECT_EQ(rig.faults("disk.lost_unsynced"), 1u);
}

Task<void> failingSync(SimStorage& storage, std::string* after) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "volatile"));
  EXPECT_IO_ERROR(co_await (*file)->sync(), IoErrorKind::kIo);
  EXPECT_EQ(co_await readWhole(**file), "volatile") << "visible until the crash";
  storage.crash("p1");
  *after = co_await fileText(disk, "f");
}

TEST(SimStorageFaultsTest, SyncFailureLeavesDataVolatile) {
  SimRig rig(3, fastWith([](StorageOptions::Faults& f) { f.syncFailure = Probability{1}; }));
  std::string after;
  rig.run(failingSync(rig.storage, &after));
  EXPECT_EQ(after, "") << "a failed sync made nothing durable";
  EXPECT_EQ(rig.faults("disk.sync_failure"), 1u);
}

TEST(SimStorageFaultsTest, WriteCorruptionStoresDifferentBytes) {
  SimRig rig(4,
             fastWith([](StorageOptions::Faults& f) { f.writeCorruption = Probability{1}; }));
  std::string stored;
  rig.run([](StorageProvider& disk, std::string* out) -> Task<void> {
    co_await putSynced(disk, "f", std::string(1024, 'A'));
    *out = co_await fileText(disk, "f");
  }(rig.storage.disk("p1"), &stored));
  ASSERT_EQ(stored.size(), 1024u);
  for (std::size_t i = 0; i < stored.size(); ++i) ASSERT_NE(stored[i], 'A') << "byte " << i;
  EXPECT_EQ(rig.faults("disk.write_corruption"), 2u) << "one per sector written";
}

Task<void> stickyReadCorruption(SimStorage& storage) {
  StorageProvider& disk = storage.disk("p1");
  co_await putSynced(disk, "f", std::string(1024, 'B'));
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kOpenExisting);
  CO_ASSERT_OK(file);
  StorageOptions corrupting = StorageOptions::quiet();
  corrupting.faults.readCorruption = Probability{1};
  storage.setOptions("p1", corrupting);
  const std::string first = co_await readText(**file, 0, 512);
  storage.setOptions("p1", StorageOptions::quiet());
  const std::string retry = co_await readText(**file, 0, 512);
  CO_ASSERT_TRUE(first.size() == 512u);
  for (char c : first) CO_ASSERT_TRUE(c != 'B');
  EXPECT_EQ(retry, first) << "sticky: a retry returns the same garbage";
  EXPECT_EQ(co_await readText(**file, 512, 512), std::string(512, 'B')) << "other sector fine";
  // Rewriting the sector remaps it.
  CO_ASSERT_OK(co_await writeText(**file, 0, std::string(512, 'C')));
  EXPECT_EQ(co_await readText(**file, 0, 512), std::string(512, 'C'));
}

TEST(SimStorageFaultsTest, ReadCorruptionIsSticky) {
  SimRig rig(5, StorageOptions::quiet());
  rig.run(stickyReadCorruption(rig.storage));
  EXPECT_EQ(rig.faults("disk.read_corruption"), 1u) << "one bad sector, recorded once";
}

std::string fourSectors() {
  return std::string(512, 'A') + std::string(512, 'B') + std::string(512, 'C') +
         std::string(512, 'D');
}

Task<void> misdirectedWrite(SimStorage& storage, std::string* after) {
  StorageProvider& disk = storage.disk("p1");
  co_await putSynced(disk, "f", fourSectors());
  StorageOptions misdirecting = StorageOptions::quiet();
  misdirecting.faults.misdirectedWrite = Probability{1};
  storage.setOptions("p1", misdirecting);
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kOpenExisting);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 512, std::string(512, 'X')));
  *after = co_await readWhole(**file);
}

TEST(SimStorageFaultsTest, MisdirectedWriteLandsElsewhere) {
  SimRig rig(6, StorageOptions::quiet());
  std::string after;
  rig.run(misdirectedWrite(rig.storage, &after));
  ASSERT_EQ(after.size(), 2048u);
  EXPECT_EQ(after.substr(512, 512), std::string(512, 'B')) << "the intended sector is stale";
  int overwritten = 0;
  for (std::size_t sector : {0, 2, 3}) {
    const std::string now = after.substr(sector * 512, 512);
    if (now == std::string(512, 'X')) {
      ++overwritten;
    } else {
      EXPECT_EQ(now, fourSectors().substr(sector * 512, 512));
    }
  }
  EXPECT_EQ(overwritten, 1) << "exactly one other sector took the data";
  ASSERT_EQ(rig.faults("disk.misdirected_write"), 1u);
  EXPECT_NE(rig.timeline.events().back().detail.find("f @512 landed @"), std::string::npos);
}

Task<void> misdirectedRead(SimStorage& storage, std::string* got, std::string* again) {
  StorageProvider& disk = storage.disk("p1");
  co_await putSynced(disk, "f", fourSectors());
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kOpenExisting);
  CO_ASSERT_OK(file);
  StorageOptions misdirecting = StorageOptions::quiet();
  misdirecting.faults.misdirectedRead = Probability{1};
  storage.setOptions("p1", misdirecting);
  *got = co_await readText(**file, 512, 512);
  storage.setOptions("p1", StorageOptions::quiet());
  *again = co_await readText(**file, 512, 512);
}

TEST(SimStorageFaultsTest, MisdirectedReadReturnsAnotherSector) {
  SimRig rig(7, StorageOptions::quiet());
  std::string got;
  std::string again;
  rig.run(misdirectedRead(rig.storage, &got, &again));
  EXPECT_TRUE(got == std::string(512, 'A') || got == std::string(512, 'C') ||
              got == std::string(512, 'D'))
      << "got a sector of '" << got.substr(0, 1) << "'";
  EXPECT_EQ(again, std::string(512, 'B')) << "the data itself was never harmed";
  EXPECT_EQ(rig.faults("disk.misdirected_read"), 1u);
}

Task<void> lostWrite(SimStorage& storage, std::string* after) {
  StorageProvider& disk = storage.disk("p1");
  co_await putSynced(disk, "f", "old!");
  StorageOptions losing = StorageOptions::quiet();
  losing.faults.lostWrite = Probability{1};
  storage.setOptions("p1", losing);
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kOpenExisting);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "new!"));  // reports success
  CO_ASSERT_OK(co_await (*file)->sync());
  *after = co_await readWhole(**file);
}

TEST(SimStorageFaultsTest, LostWriteReportsSuccessButNeverLands) {
  SimRig rig(8, StorageOptions::quiet());
  std::string after;
  rig.run(lostWrite(rig.storage, &after));
  EXPECT_EQ(after, "old!");
  EXPECT_EQ(rig.faults("disk.lost_write"), 1u);
}

Task<void> timedRead(SimStorage& storage, TimeProvider& time, Duration* elapsed) {
  IoResult<std::unique_ptr<File>> file = co_await storage.disk("p1").open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  const TimePoint start = time.now();
  (void)co_await readText(**file, 0, 10);
  *elapsed = time.now() - start;
}

// Starts a slow write, then (10us later) an operation that stalls the whole disk.
Task<void> stallDuringWrite(SimStorage& storage, TimeProvider& time, Duration* writeTook) {
  IoResult<std::unique_ptr<File>> file = co_await storage.disk("p1").open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  auto timedWrite = [](File& f, TimeProvider& clock, Duration* took) -> Task<void> {
    const TimePoint start = clock.now();
    IoResult<void> wrote = co_await writeText(f, 0, "slow");
    EXPECT_TRUE(wrote.ok());
    *took = clock.now() - start;
  };
  auto staller = [](SimStorage& disks, TimeProvider& clock, File& f) -> Task<void> {
    co_await clock.sleep(10us);
    StorageOptions stalling = StorageOptions::quiet();
    stalling.faults.stallProbability = Probability{1};
    stalling.faults.stall = {200ms, 200ms};
    disks.setOptions("p1", stalling);
    (void)co_await readText(f, 0, 1);
  };
  co_await whenAll(timedWrite(**file, time, writeTook), staller(storage, time, **file));
}

TEST(SimStorageFaultsTest, StallDelaysTheWholeDisk) {
  {
    SimRig rig(9, fastWith([](StorageOptions::Faults& f) {
                 f.stallProbability = Probability{1};
                 f.stall = {200ms, 300ms};
               }));
    Duration elapsed{0};
    rig.run(timedRead(rig.storage, rig.sim.providers().time(), &elapsed));
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LE(elapsed, 301ms);
    EXPECT_GE(rig.faults("disk.stall"), 1u);
  }
  StorageOptions slowWrites = StorageOptions::quiet();
  slowWrites.writeLatency = LatencyModel::fixed(1ms);
  SimRig rig(10, slowWrites);
  Duration writeTook{0};
  rig.run(stallDuringWrite(rig.storage, rig.sim.providers().time(), &writeTook));
  EXPECT_GE(writeTook, 200ms + 10us) << "a write already in flight waits out the stall";
  EXPECT_EQ(rig.faults("disk.stall"), 1u);
}

TEST(SimStorageFaultsTest, CompletionTimesFollowTheLatencyModel) {
  // Uniform latency only: every read takes [100us, 300us).
  StorageOptions ranged = StorageOptions::quiet();
  ranged.readLatency = LatencyModel::uniform(100us, 300us);
  SimRig rig(11, ranged);
  std::set<Duration::rep> seen;
  for (int i = 0; i < 40; ++i) {
    Duration elapsed{0};
    rig.run(timedRead(rig.storage, rig.sim.providers().time(), &elapsed));
    EXPECT_GE(elapsed, 100us);
    EXPECT_LT(elapsed, 300us + 1us);  // + quiet()'s negligible iops/bandwidth terms
    seen.insert(elapsed.count());
  }
  EXPECT_GT(seen.size(), 10u) << "latencies should vary";
  // Exact cost: 100us latency + 1/iops (1ms) + 1000 bytes at 1 MB/s (1ms).
  StorageOptions exact = StorageOptions::quiet();
  exact.writeLatency = LatencyModel::fixed(100us);
  exact.iops = 1000;
  exact.bytesPerSecond = 1'000'000;
  SimRig timed(12, exact);
  Duration took{0};
  timed.run([](StorageProvider& disk, TimeProvider& time, Duration* out) -> Task<void> {
    IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
    CO_ASSERT_OK(file);
    const TimePoint start = time.now();
    CO_ASSERT_OK(co_await writeText(**file, 0, std::string(1000, 'w')));
    *out = time.now() - start;
  }(timed.storage.disk("p1"), timed.sim.providers().time(), &took));
  EXPECT_EQ(took, 2100us);
}

// A workload touching every operation, with a crash in the middle.
Task<void> mixedWorkload(SimStorage& storage, int crashes) {
  StorageProvider& disk = storage.disk("p1");
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < 4; ++n) {
      const std::string name = "file" + std::to_string(n);
      IoResult<std::unique_ptr<File>> file = co_await disk.open(name, OpenMode::kCreate);
      CO_ASSERT_OK(file);
      for (int i = 0; i < 10; ++i) {
        (void)co_await writeText(**file, static_cast<std::uint64_t>(i * 700),
                                 std::string(900, 'a' + n));
        (void)co_await readText(**file, static_cast<std::uint64_t>(i * 300), 1500);
      }
      (void)co_await (*file)->sync();
      (void)co_await (*file)->truncate(5000);
      (void)co_await writeText(**file, 6000, "tail");
    }
    (void)co_await disk.rename("file0", "renamed");
    (void)co_await disk.list();
    (void)co_await disk.exists("renamed");
    if (round < crashes) storage.crash("p1");
  }
}

std::vector<std::string> faultTimeline(std::uint64_t seed) {
  StorageOptions noisy = StorageOptions::quiet();
  noisy.readLatency = LatencyModel::uniform(10us, 100us);
  StorageOptions::Faults& f = noisy.faults;
  f.readCorruption = f.writeCorruption = Probability{0.01};
  f.lostWrite = f.misdirectedWrite = f.misdirectedRead = f.syncFailure = Probability{0.05};
  f.crashTear = Probability{0.5};
  f.stallProbability = Probability{0.01};
  f.stall = {1ms, 5ms};
  SimRig rig(seed, noisy);
  rig.run(mixedWorkload(rig.storage, 2));
  return rig.events();
}

TEST(SimStorageFaultsTest, SameSeedSameFaultTimeline) {
  const std::vector<std::string> first = faultTimeline(21);
  const std::vector<std::string> second = faultTimeline(21);
  EXPECT_EQ(first, second);
  std::set<std::string> kinds;
  for (const std::string& line : first) {
    for (const char* kind : {"disk.lost_write", "disk.misdirected_write", "disk.misdirected_read",
                             "disk.write_corruption", "disk.read_corruption", "disk.sync_failure",
                             "disk.crash", "disk.stall"}) {
      if (line.find(kind) != std::string::npos) kinds.insert(kind);
    }
  }
  EXPECT_GE(kinds.size(), 6u) << "the workload should exercise most fault kinds";
  EXPECT_NE(first, faultTimeline(22)) << "another seed, another timeline";
}

TEST(SimStorageFaultsTest, FaultFreeOptionsDrawNothingForFaults) {
  // quiet(): fixed latencies, no faults, crashTear 0: not a single draw, crashes included.
  {
    SimRig rig(31, StorageOptions::quiet());
    const std::uint64_t before = rig.sim.random().callCount();
    rig.run(mixedWorkload(rig.storage, 2));
    EXPECT_EQ(rig.sim.random().callCount(), before);
    EXPECT_EQ(rig.faults("disk.crash"), 2u);
  }
  // The default options have no faults but a uniform latency model: one latency sample per
  // operation is allowed (and is the only draw); no fault fires. No crash here, since the
  // default crashTear of 0.5 draws once per unsynced write at a crash.
  SimRig rig(32, StorageOptions{});
  const std::uint64_t before = rig.sim.random().callCount();
  rig.run(mixedWorkload(rig.storage, 0));
  const std::uint64_t draws = rig.sim.random().callCount() - before;
  const SimStorage::Stats stats = rig.storage.stats();
  const std::uint64_t dataOps = stats.reads + stats.writes + stats.syncs;
  EXPECT_GE(draws, dataOps);
  EXPECT_LE(draws, 2 * (dataOps + 60)) << "only latency samples (with rare rejection redraws)";
  EXPECT_EQ(rig.timeline.faultsTotal(), 0u);
}

}  // namespace
}  // namespace moonpool
