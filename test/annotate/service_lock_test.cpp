// Goal: moonpool_add_service (cmake/MoonpoolService.cmake) keeps each header's lock file in the
// source tree next to the header: the first build writes it, a wire-breaking edit fails the
// build with the tool's diagnostic, the <target>_update_lock target accepts the change
// deliberately, editing or deleting the lock file reruns the generator and nothing else does,
// LOCK check (CI) fails without an up-to-date lock file, and only a wire-breaking change
// suggests the update_lock target.
// Method: configure projects/lock (a standalone project) in a work dir with Ninja and plain
// clang++-19, copy inputs/evolution/*.h in as evo.h, and build only the generator step (its
// stamp file): the C++ build of generated code is covered by the round-trip test.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

namespace fs = std::filesystem;
using test_support::contains;
using test_support::quote;

const std::string kStamp = "generated/evo_service/evo_service.annotate.stamp";
const std::string kStep = "moonpool-annotate evo_service";

class ServiceLock : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = freshWorkDir("service_lock");
    source_ = work_ + "/src";
    build_ = work_ + "/build";
    fs::copy(std::string(MP_ANNOTATE_PROJECTS) + "/lock", source_, fs::copy_options::recursive);
    useHeader("base.h");
  }

  // Puts inputs/evolution/<version> in place as src/evo.h, newer than any output so far
  // (copy_file may keep the input's older time).
  void useHeader(const std::string& version) {
    fs::copy_file(inputPath("evolution/" + version), source_ + "/evo.h",
                  fs::copy_options::overwrite_existing);
    fs::last_write_time(source_ + "/evo.h", fs::file_time_type::clock::now());
  }

  CommandResult configure(const std::string& extra) {
    return runCommand(quote(MP_CMAKE) + " -S " + quote(source_) + " -B " + quote(build_) +
                      " -G Ninja -DCMAKE_MAKE_PROGRAM=" + quote(MP_NINJA) +
                      " -DCMAKE_CXX_COMPILER=" + quote(MP_CLANGXX) + " -DMOONPOOL_SOURCE_DIR=" +
                      quote(MP_SOURCE_DIR) + " -DMOONPOOL_ANNOTATE_EXECUTABLE=" +
                      quote(MP_ANNOTATE_TOOL) + " " + extra);
  }

  CommandResult ninja(const std::string& target) {
    return runCommand(quote(MP_NINJA) + " -C " + quote(build_) + " " + target);
  }

  std::string lock() const { return readFileOrEmpty(source_ + "/evo.moonpool.lock"); }

  std::string work_;
  std::string source_;
  std::string build_;
};

TEST_F(ServiceLock, TheBuildWritesChecksAndUpdatesTheLockFile) {
  CommandResult configured = configure("");
  ASSERT_EQ(configured.exitCode, 0) << configured.output;
  CommandResult first = ninja(kStamp);
  ASSERT_EQ(first.exitCode, 0) << first.output;
  EXPECT_EQ(lock(), readFileOrEmpty(goldenPath("evolution_base.moonpool.lock")));
  CommandResult noop = ninja(kStamp);
  EXPECT_TRUE(contains(noop.output, "no work to do")) << noop.output;

  // A breaking edit fails the build, at the declaration, and says how to accept it.
  useHeader("moved.h");
  CommandResult broken = ninja(kStamp);
  EXPECT_NE(broken.exitCode, 0);
  EXPECT_TRUE(contains(broken.output, source_ + "/evo.h:16:12: error: field 'version' of "
                                                "message 'Put' moved from @2 to @1"))
      << broken.output;
  EXPECT_TRUE(contains(broken.output, "evo_service_update_lock")) << broken.output;
  EXPECT_EQ(lock(), readFileOrEmpty(goldenPath("evolution_base.moonpool.lock")));

  CommandResult updated = ninja("evo_service_update_lock");
  ASSERT_EQ(updated.exitCode, 0) << updated.output;
  EXPECT_TRUE(contains(updated.output, "(accepted by --lock=update)")) << updated.output;
  EXPECT_TRUE(contains(lock(), "  field 1 version UInt64\n  field 2 value Text\n")) << lock();
  EXPECT_EQ(ninja(kStamp).exitCode, 0);
  EXPECT_TRUE(contains(ninja(kStamp).output, "no work to do"));

  // The lock file is an input: a hand edit reruns the generator (which writes it back in
  // canonical form); so does deleting it (it is written again).
  writeFile(source_ + "/evo.moonpool.lock", "# reviewed\n" + lock());
  CommandResult edited = ninja(kStamp);
  EXPECT_TRUE(contains(edited.output, kStep)) << edited.output;
  EXPECT_FALSE(contains(lock(), "# reviewed"));
  std::string accepted = lock();
  fs::remove(source_ + "/evo.moonpool.lock");
  CommandResult deleted = ninja(kStamp);
  EXPECT_TRUE(contains(deleted.output, kStep)) << deleted.output;
  EXPECT_EQ(lock(), accepted);
  EXPECT_TRUE(contains(ninja(kStamp).output, "no work to do"));
}

TEST_F(ServiceLock, LockCheckFailsWithoutALockFile) {
  CommandResult configured = configure("-DMOONPOOL_ANNOTATE_LOCK=check");
  ASSERT_EQ(configured.exitCode, 0) << configured.output;
  CommandResult built = ninja(kStamp);
  EXPECT_NE(built.exitCode, 0);
  EXPECT_TRUE(contains(built.output, "error: no lock file '" + source_ +
                                         "/evo.moonpool.lock' (--lock=check)"))
      << built.output;
  EXPECT_FALSE(fs::exists(source_ + "/evo.moonpool.lock"));
}

TEST_F(ServiceLock, AnUnknownLockModeIsAConfigureError) {
  CommandResult configured = configure("'-DPROBE_SERVICE_ARGS=LOCK;sometimes'");
  EXPECT_NE(configured.exitCode, 0);
  // (CMake wraps the message: only its first line is matched.)
  EXPECT_TRUE(contains(configured.output,
                       "moonpool_add_service(evo_service): LOCK 'sometimes' is not one of auto,"))
      << configured.output;
}

// An error that has nothing to do with the wire (a type with no mapping, a C++ error) fails
// the build with the tool's diagnostic, and the failure does not suggest the update_lock
// target, which would not fix it (issue 15).
TEST_F(ServiceLock, APlainErrorDoesNotSuggestUpdatingTheLock) {
  ASSERT_EQ(configure("").exitCode, 0);
  ASSERT_EQ(ninja(kStamp).exitCode, 0);
  writeFile(source_ + "/evo.h",
            "#pragma once\n#include <set>\n"
            "struct [[moonpool::message]] Put { std::set<int> keys; };\n");
  CommandResult failed = ninja(kStamp);
  EXPECT_NE(failed.exitCode, 0);
  EXPECT_TRUE(contains(failed.output, source_ + "/evo.h:3:50: error: ")) << failed.output;
  EXPECT_TRUE(contains(failed.output, "(fix the header)")) << failed.output;
  EXPECT_FALSE(contains(failed.output, "update_lock")) << failed.output;
  EXPECT_FALSE(contains(failed.output, "wire-breaking")) << failed.output;
}

}  // namespace
}  // namespace moonpool::annotate::testing
