// Goal: SimStorage's own semantics beyond the shared contract: what a crash does to open
// handles and operations in flight, wipes, garbage (not zeros) in sectors a crash left
// without data, the bounded unsynced backlog, the size and count limits, per-owner
// independence, statistics, and the option presets.
// Method: scenarios on a Simulation with a Timeline (SimRig), mostly with
// StorageOptions::quiet() so only the behaviour under test draws randomness.
#include "moonpool/sim/sim_storage.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "moonpool/combinators.h"
#include "support/co_assert.h"
#include "support/storage_test_util.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using namespace storage_test;

Task<void> crashKillsHandles(SimStorage& storage) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "kept"));
  CO_ASSERT_OK(co_await (*file)->sync());
  storage.crash("p1");
  IoResult<void> late = co_await writeText(**file, 0, "late");
  EXPECT_IO_ERROR(late, IoErrorKind::kInvalidArgument);
  if (!late.ok()) EXPECT_NE(late.error().message.find("file closed by a crash"), std::string::npos);
  EXPECT_IO_ERROR(co_await (*file)->sync(), IoErrorKind::kInvalidArgument);
  std::vector<std::byte> buffer(4);
  EXPECT_IO_ERROR(co_await (*file)->read(0, buffer), IoErrorKind::kInvalidArgument);
  EXPECT_EQ(co_await fileText(disk, "f"), "kept");
}

TEST(SimStorageTest, CrashKillsOpenHandles) {
  SimRig rig(1, StorageOptions::quiet());
  rig.run(crashKillsHandles(rig.storage));
  EXPECT_EQ(rig.faults("disk.crash"), 1u);
}

Task<void> crashAfter(TimeProvider& time, SimStorage& storage, Duration delay) {
  co_await time.sleep(delay);
  storage.crash("p1");
}

Task<void> crashFailsInFlight(SimStorage& storage, TimeProvider& time) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  auto [wrote, crashed] =
      co_await whenAll(writeText(**file, 0, "in flight"), crashAfter(time, storage, 100us));
  (void)crashed;
  EXPECT_IO_ERROR(wrote, IoErrorKind::kIo);
  // The interrupted write had no effect at all, not even on the visible image.
  EXPECT_EQ(co_await fileText(disk, "f"), "");
}

TEST(SimStorageTest, CrashFailsOperationsInFlight) {
  StorageOptions options = StorageOptions::quiet();
  options.writeLatency = LatencyModel::fixed(1ms);
  SimRig rig(2, options);
  rig.run(crashFailsInFlight(rig.storage, rig.sim.providers().time()));
}

Task<void> wipeErases(SimStorage& storage) {
  StorageProvider& disk = storage.disk("p1");
  co_await putSynced(disk, "a", "one");
  co_await putSynced(disk, "dir/b", "two");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("a", OpenMode::kOpenExisting);
  CO_ASSERT_OK(file);
  storage.wipe("p1");
  IoResult<std::vector<std::string>> names = co_await disk.list();
  CO_ASSERT_OK(names);
  EXPECT_TRUE(names->empty());
  EXPECT_IO_ERROR(co_await (*file)->size(), IoErrorKind::kInvalidArgument);
  // The disk is usable again at once (a fresh machine).
  co_await putSynced(disk, "a", "new life");
  EXPECT_EQ(co_await fileText(disk, "a"), "new life");
}

TEST(SimStorageTest, WipeErasesEveryFile) {
  SimRig rig(3, StorageOptions::quiet());
  rig.run(wipeErases(rig.storage));
  EXPECT_EQ(rig.faults("disk.wipe"), 1u);
}

Task<void> extendThenCrash(SimStorage& storage, std::string* contents) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await (*file)->truncate(4096));
  EXPECT_EQ(co_await readWhole(**file), std::string(4096, '\0')) << "before a crash: zeros";
  storage.crash("p1");
  *contents = co_await fileText(disk, "f");
}

TEST(SimStorageTest, SectorsLeftWithoutDataByACrashReadAsGarbage) {
  StorageOptions options = StorageOptions::quiet();
  options.faults.crashTear = Probability{1};  // the unsynced size change reaches the metadata
  std::string first;
  std::string second;
  {
    SimRig rig(4, options);
    rig.run(extendThenCrash(rig.storage, &first));
  }
  {
    SimRig rig(4, options);
    rig.run(extendThenCrash(rig.storage, &second));
  }
  ASSERT_EQ(first.size(), 4096u);
  EXPECT_NE(first, std::string(4096, '\0')) << "uninitialized sectors must not read as zeros";
  std::set<char> distinct(first.begin(), first.end());
  EXPECT_GT(distinct.size(), 100u) << "expected pseudo-random bytes";
  EXPECT_EQ(first, second) << "garbage must be deterministic";
}

Task<void> longBacklog(SimStorage& storage, std::size_t writes) {
  StorageProvider& disk = storage.disk("p1");
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  for (std::size_t i = 0; i < writes; ++i) {
    CO_ASSERT_OK(co_await writeText(**file, i, std::string(1, static_cast<char>('a' + i % 26))));
  }
  storage.crash("p1");
}

TEST(SimStorageTest, UnsyncedBacklogIsWrittenBackAtItsBound) {
  // 5000 one-byte unsynced writes: beyond the 4096-operation backlog the oldest are written
  // back on their own, so exactly the first 904 survive a crash that loses the rest.
  SimRig rig(5, StorageOptions::quiet());
  rig.run(longBacklog(rig.storage, 5000));
  std::string contents;
  rig.run([](StorageProvider& disk, std::string* out) -> Task<void> {
    *out = co_await fileText(disk, "f");
  }(rig.storage.disk("p1"), &contents));
  ASSERT_EQ(contents.size(), 904u);
  for (std::size_t i = 0; i < contents.size(); ++i) {
    ASSERT_EQ(contents[i], static_cast<char>('a' + i % 26)) << "at " << i;
  }
  ASSERT_EQ(rig.faults("disk.lost_unsynced"), 1u) << "one record per file";
  EXPECT_NE(rig.events().back().find("4096 of 4096 unsynced operations lost"), std::string::npos)
      << rig.events().back();
}

Task<void> hitLimits(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  IoResult<void> far = co_await writeText(**file, SimStorage::kFileBytesMax, "x");
  EXPECT_IO_ERROR(far, IoErrorKind::kIo);
  if (!far.ok()) EXPECT_NE(far.error().message.find("file too large"), std::string::npos);
  EXPECT_IO_ERROR(co_await (*file)->truncate(SimStorage::kFileBytesMax + 1), IoErrorKind::kIo);
  for (std::size_t i = 1; i < SimStorage::kFilesPerOwnerMax; ++i) {
    IoResult<std::unique_ptr<File>> more =
        co_await disk.open("n" + std::to_string(i), OpenMode::kCreate);
    CO_ASSERT_OK(more);
  }
  IoResult<std::unique_ptr<File>> tooMany = co_await disk.open("last", OpenMode::kCreate);
  EXPECT_IO_ERROR(tooMany, IoErrorKind::kIo);
  if (!tooMany.ok()) EXPECT_NE(tooMany.error().message.find("too many files"), std::string::npos);
  // Existing files still open; removing one makes room.
  CO_ASSERT_OK(co_await disk.open("n1", OpenMode::kOpenExisting));
  CO_ASSERT_OK(co_await disk.remove("n1"));
  CO_ASSERT_OK(co_await disk.open("last", OpenMode::kCreate));
}

TEST(SimStorageTest, FileSizeAndFileCountAreBounded) {
  SimRig rig(6, StorageOptions::quiet());
  rig.run(hitLimits(rig.storage.disk("p1")));
}

Task<void> twoOwners(SimStorage& storage) {
  co_await putSynced(storage.disk("p1"), "f", "one");
  co_await putSynced(storage.disk("p2"), "f", "two");
  IoResult<std::unique_ptr<File>> other =
      co_await storage.disk("p2").open("f", OpenMode::kOpenExisting);
  CO_ASSERT_OK(other);
  storage.crash("p1");
  EXPECT_EQ(co_await readWhole(**other), "two") << "p2's handle survives p1's crash";
  EXPECT_EQ(co_await fileText(storage.disk("p1"), "f"), "one");
}

TEST(SimStorageTest, OwnersAreIndependent) {
  SimRig rig(7, StorageOptions::quiet());
  StorageProvider* first = &rig.storage.disk("p1");
  rig.run(twoOwners(rig.storage));
  EXPECT_EQ(first, &rig.storage.disk("p1")) << "disk() references are stable";
  EXPECT_EQ(rig.storage.options("p1").iops, StorageOptions::quiet().iops);
}

Task<void> countedWork(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "0123456789"));
  CO_ASSERT_OK(co_await writeText(**file, 10, "abc"));
  CO_ASSERT_OK(co_await (*file)->sync());
  EXPECT_EQ(co_await readText(**file, 0, 100), "0123456789abc");
}

TEST(SimStorageTest, StatsCountOperationsAndBytes) {
  SimRig rig(8, StorageOptions::quiet());
  rig.run(countedWork(rig.storage.disk("p1")));
  const SimStorage::Stats stats = rig.storage.stats();
  EXPECT_EQ(stats.writes, 2u);
  EXPECT_EQ(stats.bytesWritten, 13u);
  EXPECT_EQ(stats.syncs, 1u);
  EXPECT_EQ(stats.reads, 1u);
  EXPECT_EQ(stats.bytesRead, 13u);
  EXPECT_EQ(stats.faults, 0u);
}

TEST(SimStorageTest, OptionPresets) {
  const StorageOptions quiet = StorageOptions::quiet();
  EXPECT_EQ(quiet.faults.crashTear.value(), 0.0);
  EXPECT_EQ(quiet.readLatency.lo, quiet.readLatency.hi);
  const std::string text = StorageOptions{}.toString();
  for (const char* field : {"read ", "write ", "sync ", "iops", "sector", "read_corruption",
                            "write_corruption", "lost_write", "misdirected_write",
                            "misdirected_read", "sync_failure", "crash_tear", "stall"}) {
    EXPECT_NE(text.find(field), std::string::npos) << field << " missing from:\n" << text;
  }
  RandomStream configA(99);
  RandomStream configB(99);
  const StorageOptions chaotic = StorageOptions::chaotic(configA);
  EXPECT_EQ(chaotic.toString(), StorageOptions::chaotic(configB).toString());
  const StorageOptions::Faults& f = chaotic.faults;
  for (Probability p : {f.readCorruption, f.writeCorruption, f.lostWrite, f.misdirectedWrite,
                        f.misdirectedRead, f.syncFailure, f.crashTear, f.stallProbability}) {
    EXPECT_GT(p.value(), 0.0);
    EXPECT_LT(p.value(), 1.0);
  }
  // Swarm: over many configurations every family is sometimes off and sometimes on.
  std::vector<int> off(8, 0);
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    RandomStream config(seed);
    const StorageOptions::Faults s = chaotic.swarm(config).faults;
    const Probability values[] = {s.readCorruption,   s.writeCorruption, s.lostWrite,
                                  s.misdirectedWrite, s.misdirectedRead, s.syncFailure,
                                  s.crashTear,        s.stallProbability};
    for (std::size_t i = 0; i < 8; ++i) off[i] += values[i] == Probability{} ? 1 : 0;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_GT(off[i], 0) << "family " << i << " never switched off";
    EXPECT_LT(off[i], 64) << "family " << i << " always switched off";
  }
}

}  // namespace
}  // namespace moonpool
