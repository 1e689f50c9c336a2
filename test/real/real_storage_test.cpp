// Goal: the real storage provider keeps the durability contract of real_storage.h: every
// directory it creates is fsynced into its parent (the whole chain, root included) before
// anything is made inside it; a created, renamed or removed name is fsynced in its
// directory; File::sync() fsyncs the file. The storage contract suite covers behaviour;
// this covers what reaches the disk.
// Method: a SyncObserver records each fsync the provider made, in order; each case starts
// from a fresh directory under the build tree and compares the exact sequence.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/real/real_executor.h"
#include "moonpool/real/real_storage.h"
#include "support/co_assert.h"
#include "support/command.h"
#include "support/storage_test_util.h"

namespace moonpool {
namespace {

using Sync = std::pair<SyncTarget, std::string>;

class RecordingObserver final : public SyncObserver {
 public:
  void synced(SyncTarget target, const std::string& path) override {
    syncs.emplace_back(target, path);
  }
  std::vector<Sync> syncs;
};

Sync dir(const std::string& path) { return {SyncTarget::kDirectory, path}; }
Sync file(const std::string& path) { return {SyncTarget::kFile, path}; }

template <typename Body>
void runWith(StorageProvider& storage, Body body) {
  RealRuntime runtime;
  RunOutcome outcome = runtime.run(body(storage));
  ASSERT_TRUE(outcome.ok()) << outcome.message;
}

TEST(RealStorageTest, CreatingAFileSyncsEveryDirectoryItCreated) {
  const std::string work = test_support::freshWorkDir(MOONPOOL_TEST_WORK_DIR, "w");
  const std::string root = work + "/deep/root";
  RecordingObserver observer;
  RealStorageProvider storage(root, &observer);
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    IoResult<std::unique_ptr<File>> created = co_await disk.open("a/b/f", OpenMode::kCreate);
    CO_ASSERT_OK(created);
    CO_ASSERT_OK(co_await storage_test::writeText(**created, 0, "x"));
    CO_ASSERT_OK(co_await (*created)->sync());
  });
  // Each new directory lands in its parent before its first child is made; then the
  // file's name, then (only on sync) its contents.
  EXPECT_EQ(observer.syncs,
            (std::vector<Sync>{dir(work), dir(work + "/deep"), dir(root), dir(root + "/a"),
                               dir(root + "/a/b"), file("a/b/f")}));
  // A second create in an existing directory syncs only that directory.
  observer.syncs.clear();
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    CO_ASSERT_OK(co_await disk.open("a/b/g", OpenMode::kCreateNew));
  });
  EXPECT_EQ(observer.syncs, (std::vector<Sync>{dir(root + "/a/b")}));
}

TEST(RealStorageTest, ARelativeRootIsSyncedIntoTheWorkingDirectory) {
  const std::string work = test_support::freshWorkDir(MOONPOOL_TEST_WORK_DIR, "w");
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(work);
  RecordingObserver observer;
  RealStorageProvider storage("data", &observer);
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    CO_ASSERT_OK(co_await disk.open("f", OpenMode::kCreate));
  });
  std::filesystem::current_path(before);
  EXPECT_EQ(observer.syncs, (std::vector<Sync>{dir("."), dir("data")}));
}

TEST(RealStorageTest, RenameAndRemoveSyncTheDirectoriesTheyChange) {
  const std::string root = test_support::freshWorkDir(MOONPOOL_TEST_WORK_DIR, "root");
  RecordingObserver observer;
  RealStorageProvider storage(root, &observer);
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    CO_ASSERT_OK(co_await disk.open("x", OpenMode::kCreate));
  });
  observer.syncs.clear();
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    CO_ASSERT_OK(co_await disk.rename("x", "n/y"));
  });
  // The new directory n (in root), the target's entry (in n), the source's removal (root).
  EXPECT_EQ(observer.syncs, (std::vector<Sync>{dir(root), dir(root + "/n"), dir(root)}));
  observer.syncs.clear();
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    CO_ASSERT_OK(co_await disk.remove("n/y"));
  });
  EXPECT_EQ(observer.syncs, (std::vector<Sync>{dir(root + "/n")}));
  EXPECT_FALSE(std::filesystem::exists(root + "/n")) << "an emptied directory was kept";
}

TEST(RealStorageTest, FailedOperationsReportNoSync) {
  const std::string root = test_support::freshWorkDir(MOONPOOL_TEST_WORK_DIR, "root");
  RecordingObserver observer;
  RealStorageProvider storage(root, &observer);
  runWith(storage, [](StorageProvider& disk) -> Task<void> {
    EXPECT_IO_ERROR(co_await disk.open("missing", OpenMode::kOpenExisting),
                    IoErrorKind::kNotFound);
    EXPECT_IO_ERROR(co_await disk.remove("missing"), IoErrorKind::kNotFound);
    EXPECT_IO_ERROR(co_await disk.rename("missing", "other"), IoErrorKind::kNotFound);
  });
  EXPECT_TRUE(observer.syncs.empty());
}

}  // namespace
}  // namespace moonpool
