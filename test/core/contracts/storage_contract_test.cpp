// Goal: the storage contract (storage.h) holds identically for SimStorage (faults off) and
// RealStorageProvider: open modes, positional read/write, short reads at end of file,
// zero-filled gaps, truncate, size, sync, rename, remove, sorted recursive list, exists,
// path validation and the error kind of every failure.
// Method: each contract is one coroutine over a StorageProvider&; a value-parameterized
// fixture runs it against a SimStorage disk inside a Simulation (default latency model, no
// faults) and against POSIX files in a fresh directory under the build tree, driven by a
// RealRuntime. A simulated run must also record no fault at all.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "moonpool/real/real_executor.h"
#include "moonpool/real/real_storage.h"
#include "moonpool/sim/sim_storage.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/timeline.h"
#include "support/co_assert.h"
#include "support/command.h"
#include "support/storage_test_util.h"

namespace moonpool {
namespace {

using namespace storage_test;

enum class Backend : std::uint8_t { kSim, kReal };
using Contract = Task<void> (*)(StorageProvider&);

class StorageContract : public ::testing::TestWithParam<Backend> {
 protected:
  void check(Contract contract) {
    if (GetParam() == Backend::kSim) {
      Simulation sim(SimOptions{.seed = 11});
      Timeline timeline(sim.executor());
      SimStorage storage(sim.executor(), sim.random(), timeline, StorageOptions{});
      RunOutcome outcome = sim.run(contract(storage.disk("p1")));
      EXPECT_TRUE(outcome.ok()) << outcome.message;
      EXPECT_EQ(timeline.faultsTotal(), 0u) << "a fault-free disk recorded a fault";
      return;
    }
    RealRuntime runtime;
    RealStorageProvider provider(test_support::freshWorkDir(MOONPOOL_TEST_WORK_DIR, "root"));
    RunOutcome outcome = runtime.run(contract(provider));
    EXPECT_TRUE(outcome.ok()) << outcome.message;
  }
};

Task<void> openModes(StorageProvider& disk) {
  EXPECT_IO_ERROR(co_await disk.open("a", OpenMode::kOpenExisting), IoErrorKind::kNotFound);
  IoResult<std::unique_ptr<File>> created = co_await disk.open("a", OpenMode::kCreateNew);
  CO_ASSERT_OK(created);
  EXPECT_EQ(co_await readWhole(**created), "");
  CO_ASSERT_OK(co_await writeText(**created, 0, "payload"));
  EXPECT_IO_ERROR(co_await disk.open("a", OpenMode::kCreateNew), IoErrorKind::kAlreadyExists);
  // kCreate and kOpenExisting keep the contents; kCreateTruncate empties them.
  IoResult<std::unique_ptr<File>> again = co_await disk.open("a", OpenMode::kCreate);
  CO_ASSERT_OK(again);
  EXPECT_EQ(co_await readWhole(**again), "payload");
  EXPECT_EQ(co_await fileText(disk, "a"), "payload");
  IoResult<std::unique_ptr<File>> emptied = co_await disk.open("a", OpenMode::kCreateTruncate);
  CO_ASSERT_OK(emptied);
  EXPECT_EQ(co_await readWhole(**emptied), "");
  IoResult<std::unique_ptr<File>> fresh = co_await disk.open("b", OpenMode::kCreateTruncate);
  CO_ASSERT_OK(fresh);
  EXPECT_TRUE(co_await isFile(disk, "b"));
}

Task<void> readWriteAtOffsets(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("log/one", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  File& f = **file;
  CO_ASSERT_OK(co_await writeText(f, 0, "hello"));
  CO_ASSERT_OK(co_await writeText(f, 5, "world"));
  EXPECT_EQ(co_await readText(f, 0, 10), "helloworld");
  CO_ASSERT_OK(co_await writeText(f, 3, "LOWO"));
  EXPECT_EQ(co_await readText(f, 0, 10), "helLOWOrld");
  EXPECT_EQ(co_await readText(f, 4, 3), "OWO");
  IoResult<std::uint64_t> size = co_await f.size();
  CO_ASSERT_OK(size);
  EXPECT_EQ(*size, 10u);
  // An empty write changes nothing, even past the end.
  CO_ASSERT_OK(co_await f.write(100, {}));
  IoResult<std::uint64_t> same = co_await f.size();
  CO_ASSERT_OK(same);
  EXPECT_EQ(*same, 10u);
}

Task<void> shortReadAtEndOfFile(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "0123456789"));
  std::vector<std::byte> buffer(100);
  IoResult<std::size_t> got = co_await (*file)->read(0, buffer);
  CO_ASSERT_OK(got);
  EXPECT_EQ(*got, 10u);
  IoResult<std::size_t> tail = co_await (*file)->read(7, buffer);
  CO_ASSERT_OK(tail);
  EXPECT_EQ(*tail, 3u);
  EXPECT_EQ(textOf(std::span(buffer).first(3)), "789");
  IoResult<std::size_t> atEnd = co_await (*file)->read(10, buffer);
  CO_ASSERT_OK(atEnd);
  EXPECT_EQ(*atEnd, 0u);
  IoResult<std::size_t> beyond = co_await (*file)->read(1'000'000, buffer);
  CO_ASSERT_OK(beyond);
  EXPECT_EQ(*beyond, 0u);
}

Task<void> writePastEndZeroFills(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("sparse", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 3, "ab"));
  CO_ASSERT_OK(co_await writeText(**file, 2000, "z"));
  std::string all = co_await readWhole(**file);
  CO_ASSERT_TRUE(all.size() == 2001u);
  EXPECT_EQ(all.substr(0, 3), std::string(3, '\0'));
  EXPECT_EQ(all.substr(3, 2), "ab");
  EXPECT_EQ(all.substr(5, 1995), std::string(1995, '\0'));
  EXPECT_EQ(all.substr(2000), "z");
}

Task<void> truncateShrinksAndGrows(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("t", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  File& f = **file;
  CO_ASSERT_OK(co_await writeText(f, 0, "abcdefghij"));
  CO_ASSERT_OK(co_await f.truncate(4));
  EXPECT_EQ(co_await readWhole(f), "abcd");
  CO_ASSERT_OK(co_await f.truncate(8));
  EXPECT_EQ(co_await readWhole(f), std::string("abcd") + std::string(4, '\0'));
  CO_ASSERT_OK(co_await f.truncate(0));
  IoResult<std::uint64_t> size = co_await f.size();
  CO_ASSERT_OK(size);
  EXPECT_EQ(*size, 0u);
}

Task<void> syncKeepsContents(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("s", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "durable"));
  CO_ASSERT_OK(co_await (*file)->sync());
  CO_ASSERT_OK(co_await (*file)->sync());  // nothing pending: still fine
  EXPECT_EQ(co_await fileText(disk, "s"), "durable");
}

Task<void> renameReplaces(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> a = co_await disk.open("a", OpenMode::kCreate);
  IoResult<std::unique_ptr<File>> b = co_await disk.open("b", OpenMode::kCreate);
  CO_ASSERT_OK(a);
  CO_ASSERT_OK(b);
  CO_ASSERT_OK(co_await writeText(**a, 0, "from a"));
  CO_ASSERT_OK(co_await writeText(**b, 0, "from b, longer"));
  CO_ASSERT_OK(co_await disk.rename("a", "b"));
  EXPECT_FALSE(co_await isFile(disk, "a"));
  EXPECT_EQ(co_await fileText(disk, "b"), "from a");
  // Into a directory that does not exist yet, and onto itself.
  CO_ASSERT_OK(co_await disk.rename("b", "dir/sub/c"));
  CO_ASSERT_OK(co_await disk.rename("dir/sub/c", "dir/sub/c"));
  EXPECT_EQ(co_await fileText(disk, "dir/sub/c"), "from a");
  EXPECT_IO_ERROR(co_await disk.rename("missing", "x"), IoErrorKind::kNotFound);
  // Handles follow the file, not the name (POSIX inodes).
  CO_ASSERT_OK(co_await writeText(**a, 0, "FROM"));
  EXPECT_EQ(co_await fileText(disk, "dir/sub/c"), "FROM a");
}

Task<void> removeDeletes(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("gone/soon", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await writeText(**file, 0, "still readable"));
  CO_ASSERT_OK(co_await disk.remove("gone/soon"));
  EXPECT_FALSE(co_await isFile(disk, "gone/soon"));
  EXPECT_IO_ERROR(co_await disk.open("gone/soon", OpenMode::kOpenExisting), IoErrorKind::kNotFound);
  EXPECT_IO_ERROR(co_await disk.remove("gone/soon"), IoErrorKind::kNotFound);
  // The open handle keeps the removed file alive.
  EXPECT_EQ(co_await readWhole(**file), "still readable");
  // The emptied directory does not block a file of the same name.
  IoResult<std::unique_ptr<File>> reused = co_await disk.open("gone", OpenMode::kCreateNew);
  CO_ASSERT_OK(reused);
}

Task<void> listIsSortedAndRecursive(StorageProvider& disk) {
  IoResult<std::vector<std::string>> empty = co_await disk.list();
  CO_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  for (const char* name : {"c", "a/z", "b", "a-x", "a/b/deep", "a/a"}) {
    IoResult<std::unique_ptr<File>> file = co_await disk.open(name, OpenMode::kCreate);
    CO_ASSERT_OK(file);
  }
  IoResult<std::vector<std::string>> names = co_await disk.list();
  CO_ASSERT_OK(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"a-x", "a/a", "a/b/deep", "a/z", "b", "c"}));
  CO_ASSERT_OK(co_await disk.remove("a/b/deep"));
  CO_ASSERT_OK(co_await disk.rename("c", "a/c"));
  IoResult<std::vector<std::string>> after = co_await disk.list();
  CO_ASSERT_OK(after);
  EXPECT_EQ(*after, (std::vector<std::string>{"a-x", "a/a", "a/c", "a/z", "b"}));
}

Task<void> existsNamesFilesOnly(StorageProvider& disk) {
  EXPECT_FALSE(co_await isFile(disk, "x/y"));
  IoResult<std::unique_ptr<File>> file = co_await disk.open("x/y", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  EXPECT_TRUE(co_await isFile(disk, "x/y"));
  EXPECT_FALSE(co_await isFile(disk, "x")) << "a directory is not a file";
  EXPECT_FALSE(co_await isFile(disk, "x/y/z"));
}

Task<void> badPathsAreInvalid(StorageProvider& disk) {
  for (const char* bad : {"", "/etc/passwd", "..", "../x", "a/../b", "a//b", "a/", "./a"}) {
    SCOPED_TRACE(std::string("path '") + bad + "'");
    EXPECT_IO_ERROR(co_await disk.open(bad, OpenMode::kCreate), IoErrorKind::kInvalidArgument);
    EXPECT_IO_ERROR(co_await disk.remove(bad), IoErrorKind::kInvalidArgument);
    EXPECT_IO_ERROR(co_await disk.exists(bad), IoErrorKind::kInvalidArgument);
    EXPECT_IO_ERROR(co_await disk.rename(bad, "ok"), IoErrorKind::kInvalidArgument);
    EXPECT_IO_ERROR(co_await disk.rename("ok", bad), IoErrorKind::kInvalidArgument);
  }
  IoResult<std::vector<std::string>> names = co_await disk.list();
  CO_ASSERT_OK(names);
  EXPECT_TRUE(names->empty()) << "a rejected path created something";
}

Task<void> fileAndDirectoryNamesConflict(StorageProvider& disk) {
  IoResult<std::unique_ptr<File>> file = co_await disk.open("f", OpenMode::kCreate);
  IoResult<std::unique_ptr<File>> nested = co_await disk.open("d/x", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(nested);
  // A file cannot be a directory, and a directory cannot be opened or removed as a file.
  EXPECT_IO_ERROR(co_await disk.open("f/g", OpenMode::kCreate), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.open("f/g", OpenMode::kOpenExisting), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.open("d", OpenMode::kCreate), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.remove("d"), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.rename("d", "e"), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.rename("f", "d"), IoErrorKind::kIo);
  EXPECT_IO_ERROR(co_await disk.rename("d/x", "f/x"), IoErrorKind::kIo);
}

Task<void> largeTransfersRoundTrip(StorageProvider& disk) {
  constexpr std::size_t kBytes = 300'000;  // many sectors, not sector aligned
  std::vector<std::byte> data(kBytes);
  for (std::size_t i = 0; i < kBytes; ++i)
    data[i] = static_cast<std::byte>((i * 131 + i / 7) & 0xff);
  IoResult<std::unique_ptr<File>> file = co_await disk.open("big", OpenMode::kCreate);
  CO_ASSERT_OK(file);
  CO_ASSERT_OK(co_await (*file)->write(777, data));
  CO_ASSERT_OK(co_await (*file)->sync());
  std::vector<std::byte> back(kBytes);
  IoResult<std::size_t> got = co_await (*file)->read(777, back);
  CO_ASSERT_OK(got);
  EXPECT_EQ(*got, kBytes);
  EXPECT_TRUE(back == data);
}

TEST_P(StorageContract, OpenModes) { check(openModes); }
TEST_P(StorageContract, ReadWriteAtOffsets) { check(readWriteAtOffsets); }
TEST_P(StorageContract, ShortReadAtEndOfFile) { check(shortReadAtEndOfFile); }
TEST_P(StorageContract, WritePastEndZeroFills) { check(writePastEndZeroFills); }
TEST_P(StorageContract, TruncateShrinksAndGrows) { check(truncateShrinksAndGrows); }
TEST_P(StorageContract, SyncKeepsContents) { check(syncKeepsContents); }
TEST_P(StorageContract, RenameReplaces) { check(renameReplaces); }
TEST_P(StorageContract, RemoveDeletes) { check(removeDeletes); }
TEST_P(StorageContract, ListIsSortedAndRecursive) { check(listIsSortedAndRecursive); }
TEST_P(StorageContract, ExistsNamesFilesOnly) { check(existsNamesFilesOnly); }
TEST_P(StorageContract, BadPathsAreInvalid) { check(badPathsAreInvalid); }
TEST_P(StorageContract, FileAndDirectoryNamesConflict) { check(fileAndDirectoryNamesConflict); }
TEST_P(StorageContract, LargeTransfersRoundTrip) { check(largeTransfersRoundTrip); }

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract,
                         ::testing::Values(Backend::kSim, Backend::kReal),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSim ? std::string("Sim")
                                                              : std::string("Real");
                         });

}  // namespace
}  // namespace moonpool
