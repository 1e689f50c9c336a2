// Goal: the wrappers work as CMAKE_C_COMPILER/CMAKE_CXX_COMPILER (identified as Clang 19,
// try_compile passes, the wrapper's flag is accepted in CMAKE_CXX_FLAGS and in target compile
// options, and coverage reaches the objects), and moonpool_add_service regenerates exactly when it
// should: touching an unrelated source reruns nothing of the generator, touching the header reruns
// moonpool-annotate but (same schema bytes) not capnp compile, and editing the header regenerates
// everything.
// Method: configure and build the small projects in projects/ in fresh work directories with
// the wrappers, then touch or edit copied files and read `ninja -v` output.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "instrument_testing.h"

namespace moonpool::instrument::testing {
namespace {

namespace fs = std::filesystem;

std::string configure(const std::string& source, const std::string& build,
                      const std::string& extra) {
  return quote(MP_CMAKE) + " -S " + quote(source) + " -B " + quote(build) + " -G Ninja" +
         " -DCMAKE_MAKE_PROGRAM=" + quote(MP_NINJA) + " -DCMAKE_C_COMPILER=" +
         quote(MP_WRAPPER_C) + " -DCMAKE_CXX_COMPILER=" + quote(MP_WRAPPER_CXX) + " " + extra;
}

std::string ninja(const std::string& build) {
  return quote(MP_NINJA) + " -C " + quote(build) + " -v";
}

TEST(WrapperCMake, CompilerIdentificationAndTryCompile) {
  const std::string work = freshWorkDir("cmake_compiler");
  const std::string build = work + "/build";
  CommandResult configured =
      run(configure(std::string(MP_PROJECTS) + "/compiler", build,
                    "-DCMAKE_CXX_FLAGS=--moonpool-coverage=off"));
  ASSERT_EQ(configured.exitCode, 0) << configured.output;
  EXPECT_TRUE(contains(configured.output, "The CXX compiler identification is Clang 19."))
      << configured.output;
  EXPECT_TRUE(contains(configured.output, "The C compiler identification is Clang 19."))
      << configured.output;
  EXPECT_TRUE(contains(configured.output, "Performing Test PROBE_WRAPPER_FLAGS_WORK - Success"))
      << configured.output;
  CommandResult built = run(ninja(build));
  ASSERT_EQ(built.exitCode, 0) << built.output;
  CommandResult ran = run(quote(build + "/probe"));
  EXPECT_EQ(ran.exitCode, 0);
  EXPECT_EQ(ran.output, "probe 42\n");
  // The target's coverage flag reached its C++ object; the link pulled in no sanitizer runtime.
  EXPECT_TRUE(
      contains(run("objdump -h " + quote(build + "/CMakeFiles/probe.dir/main.cpp.o")).output,
               "__sancov_cntrs"));
  EXPECT_FALSE(contains(run("nm " + quote(build + "/probe")).output, "__ubsan"));
}

class ServiceProject : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = freshWorkDir("cmake_service");
    source_ = work_ + "/src";
    build_ = work_ + "/build";
    fs::copy(fs::path(MP_PROJECTS) / "service", source_, fs::copy_options::recursive);
    fs::copy_file(inputPath("echo_service.h"), source_ + "/echo_service.h");
    // Sources start in the past, so "touched" below is strictly newer than any output.
    for (const fs::directory_entry& entry : fs::directory_iterator(source_)) {
      fs::last_write_time(entry.path(), fs::file_time_type::clock::now() - std::chrono::minutes(1));
    }
  }

  CommandResult build() { return run(ninja(build_)); }

  // Sets a file's modification time to now, as an editor save would.
  void touch(const std::string& name) {
    fs::last_write_time(fs::path(source_) / name, fs::file_time_type::clock::now());
  }

  std::string work_;
  std::string source_;
  std::string build_;
};

const std::string kAnnotateStep = "MoonpoolService.cmake";
const std::string kCapnpStep = "capnp compile";

TEST_F(ServiceProject, BuildsAndRegeneratesOnlyForTheHeader) {
  CommandResult configured = run(configure(
      source_, build_,
      "-DMOONPOOL_SOURCE_DIR=" + quote(MP_SOURCE_DIR) +
          " -DMOONPOOL_ANNOTATE_EXECUTABLE=" + quote(MP_ANNOTATE_TOOL)));
  ASSERT_EQ(configured.exitCode, 0) << configured.output;
  CommandResult first = build();
  ASSERT_EQ(first.exitCode, 0) << first.output;
  EXPECT_TRUE(contains(first.output, kAnnotateStep)) << first.output;
  EXPECT_TRUE(contains(first.output, kCapnpStep)) << first.output;
  CommandResult ran = run(quote(build_ + "/probe"));
  EXPECT_EQ(ran.exitCode, 0);
  EXPECT_EQ(ran.output, "probe hello 7\n");

  CommandResult noop = build();
  EXPECT_TRUE(contains(noop.output, "no work to do")) << noop.output;

  touch("unrelated.cpp");
  CommandResult unrelated = build();
  ASSERT_EQ(unrelated.exitCode, 0) << unrelated.output;
  EXPECT_TRUE(contains(unrelated.output, "unrelated.cpp")) << unrelated.output;
  EXPECT_FALSE(contains(unrelated.output, kAnnotateStep)) << unrelated.output;
  EXPECT_FALSE(contains(unrelated.output, kCapnpStep)) << unrelated.output;

  // Same bytes: the tool reruns, leaves the schema alone, and Ninja stops there (restat).
  touch("echo_service.h");
  CommandResult touched = build();
  ASSERT_EQ(touched.exitCode, 0) << touched.output;
  EXPECT_TRUE(contains(touched.output, kAnnotateStep)) << touched.output;
  EXPECT_FALSE(contains(touched.output, kCapnpStep)) << touched.output;

  // A real edit: a new field reaches the generated C++.
  {
    std::ifstream in(source_ + "/echo_service.h");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string anchor = "  uint32_t count;\n";
    ASSERT_NE(text.find(anchor), std::string::npos);
    text.insert(text.find(anchor) + anchor.size(), "  bool loud;\n");
    std::ofstream(source_ + "/echo_service.h", std::ios::trunc) << text;
  }
  touch("echo_service.h");
  CommandResult edited = build();
  ASSERT_EQ(edited.exitCode, 0) << edited.output;
  EXPECT_TRUE(contains(edited.output, kAnnotateStep)) << edited.output;
  EXPECT_TRUE(contains(edited.output, kCapnpStep)) << edited.output;
  std::ifstream generated(build_ + "/generated/echo_service/echo_service.capnp.h");
  std::string header((std::istreambuf_iterator<char>(generated)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(header, "getLoud")) << "new field missing from the generated header";
}

TEST_F(ServiceProject, GeneratorErrorsFailTheBuild) {
  std::ofstream(source_ + "/echo_service.h", std::ios::app)
      << "namespace wrapper_demo {\nstruct [[moonpool::message]] Bad { int* pointer; };\n}\n";
  ASSERT_EQ(run(configure(source_, build_,
                          "-DMOONPOOL_SOURCE_DIR=" + quote(MP_SOURCE_DIR) +
                              " -DMOONPOOL_ANNOTATE_EXECUTABLE=" + quote(MP_ANNOTATE_TOOL)))
                .exitCode,
            0);
  CommandResult failed = build();
  EXPECT_NE(failed.exitCode, 0);
  EXPECT_TRUE(contains(failed.output, "echo_service.h:")) << failed.output;
  EXPECT_TRUE(contains(failed.output, "moonpool_add_service(echo_service): moonpool-annotate "
                                      "failed"))
      << failed.output;
}

TEST_F(ServiceProject, MissingToolIsAConfigureError) {
  CommandResult configured =
      run("PATH=/usr/bin:/bin " + configure(source_, build_,
                                            "-DMOONPOOL_SOURCE_DIR=" + quote(MP_SOURCE_DIR)));
  EXPECT_NE(configured.exitCode, 0);
  EXPECT_TRUE(contains(configured.output, "moonpool_add_service: moonpool-annotate not found"))
      << configured.output;
}

}  // namespace
}  // namespace moonpool::instrument::testing
