// Goal: moonpool-annotate's schemas are right, stable and usable.
// Method: run the built tool binary on the inputs/ headers and compare the output (schemas, and the
// C++ glue of kv_store.h) byte for byte with golden/ (set MOONPOOL_UPDATE_GOLDEN=1 to rewrite the
// golden files after a reviewed change); run it twice for determinism; feed every golden schema to
// the stock `capnp compile -oc++` and compile the C++ it generates; check the command-line errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

// Inputs with golden schemas: the full type showcase plus the rules' must-not-fire inputs
// that exercise name conversion and nesting.
const std::vector<std::string> kGoldenInputs = {"kv_store.h", "ok_serializable_types.h",
                                                "ok_member_names.h", "ok_type_names.h"};

std::string schemaName(const std::string& header) {
  return header.substr(0, header.rfind('.')) + ".capnp";
}

TEST(AnnotateGolden, MatchesGoldenFiles) {
  const bool update = std::getenv("MOONPOOL_UPDATE_GOLDEN") != nullptr;
  for (const std::string& header : kGoldenInputs) {
    std::string out = freshWorkDir("golden_" + header);
    CommandResult result = runAnnotate({header}, out);
    ASSERT_EQ(result.exitCode, 0) << header << ":\n" << result.output;
    EXPECT_EQ(result.output, "") << header;
    std::string generated = readFileOrEmpty(out + "/" + schemaName(header));
    ASSERT_FALSE(generated.empty()) << header;
    if (update) std::ofstream(goldenPath(schemaName(header)), std::ios::binary) << generated;
    EXPECT_EQ(generated, readFileOrEmpty(goldenPath(schemaName(header))))
        << "generated " << out << "/" << schemaName(header) << " differs from "
        << goldenPath(schemaName(header));
  }
}

// The generated C++ glue of the type showcase (compiled and run by roundtrip_test.cpp).
TEST(AnnotateGolden, MatchesGoldenCppFiles) {
  const bool update = std::getenv("MOONPOOL_UPDATE_GOLDEN") != nullptr;
  std::string out = freshWorkDir("golden_cpp");
  CommandResult result = runAnnotate({"kv_store.h"}, out);
  ASSERT_EQ(result.exitCode, 0) << result.output;
  for (const std::string& name : {"kv_store.moonpool.h", "kv_store.moonpool.cpp"}) {
    std::string generated = readFileOrEmpty(out + "/" + name);
    ASSERT_FALSE(generated.empty()) << name;
    if (update) std::ofstream(goldenPath(name), std::ios::binary) << generated;
    EXPECT_EQ(generated, readFileOrEmpty(goldenPath(name)))
        << "generated " << out << "/" << name << " differs from " << goldenPath(name);
  }
}

// The lock file the first run writes (lock_file.h): sorted, canonical, reviewable.
TEST(AnnotateGolden, MatchesGoldenLockFile) {
  const bool update = std::getenv("MOONPOOL_UPDATE_GOLDEN") != nullptr;
  std::string out = freshWorkDir("golden_lock");
  CommandResult result = runAnnotate({"kv_store.h"}, out);
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::string generated = readFileOrEmpty(out + "/kv_store.moonpool.lock");
  ASSERT_FALSE(generated.empty());
  if (update) std::ofstream(goldenPath("kv_store.moonpool.lock"), std::ios::binary) << generated;
  EXPECT_EQ(generated, readFileOrEmpty(goldenPath("kv_store.moonpool.lock")));
}

TEST(AnnotateGolden, OutputIsDeterministic) {
  std::string first = freshWorkDir("determinism_a");
  std::string second = freshWorkDir("determinism_b");
  // Same inputs, different order and run: every file must be byte-identical.
  ASSERT_EQ(runAnnotate({"kv_store.h", "ok_type_names.h"}, first).exitCode, 0);
  ASSERT_EQ(runAnnotate({"ok_type_names.h", "kv_store.h"}, second).exitCode, 0);
  for (const std::string& name :
       {"kv_store.capnp", "ok_type_names.capnp", "kv_store.moonpool.h", "kv_store.moonpool.cpp",
        "ok_type_names.moonpool.h", "ok_type_names.moonpool.cpp", "kv_store.moonpool.lock",
        "ok_type_names.moonpool.lock"}) {
    std::string a = readFileOrEmpty(first + "/" + name);
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_EQ(a, readFileOrEmpty(second + "/" + name)) << name;
  }
}

TEST(AnnotateGolden, IdsHaveTheHighBitSet) {
  std::string schema = readFileOrEmpty(goldenPath("kv_store.capnp"));
  std::regex idPattern("@0x([0-9a-f]{16})");
  int ids = 0;
  for (std::sregex_iterator it(schema.begin(), schema.end(), idPattern), end; it != end; ++it) {
    ++ids;
    uint64_t id = std::stoull((*it)[1].str(), nullptr, 16);
    EXPECT_NE(id & (uint64_t{1} << 63), 0u) << (*it)[0].str();
  }
  EXPECT_GT(ids, 10);
}

TEST(AnnotateGolden, EveryGoldenSchemaCompilesWithStockCapnp) {
  std::vector<std::string> schemas = listFiles(MP_ANNOTATE_GOLDEN, ".capnp");
  ASSERT_GE(schemas.size(), kGoldenInputs.size());
  std::string out = freshWorkDir("capnp_compile");
  for (const std::string& schema : schemas) {
    CommandResult capnp = runCommand(std::string("'") + MP_CAPNP + "' compile -oc++:'" + out +
                                     "' --src-prefix='" + MP_ANNOTATE_GOLDEN + "' '" +
                                     goldenPath(schema) + "'");
    ASSERT_EQ(capnp.exitCode, 0) << schema << ":\n" << capnp.output;
    // The C++ capnp generates must compile too (with the C++20 shim, toolchain.md P5).
    CommandResult cxx = runCommand(
        std::string("'") + MP_CLANGXX + "' -std=c++20 -fsyntax-only -include '" +
        MP_KJ_SHIM + "' -I'" + out + "' '" + out + "/" + schema + ".c++'");
    EXPECT_EQ(cxx.exitCode, 0) << schema << ":\n" << cxx.output;
  }
}

TEST(AnnotateCli, AnErrorInAnyInputWritesNoOutput) {
  std::string out = freshWorkDir("no_output_on_error");
  CommandResult result = runAnnotate({"kv_store.h", "bad_task_return.h"}, out);
  EXPECT_NE(result.exitCode, 0);
  EXPECT_TRUE(listFiles(out, "").empty()) << "files were written despite errors";
}

TEST(AnnotateCli, UnknownFlagIsAnError) {
  CommandResult result = runCommand(std::string("'") + MP_ANNOTATE_TOOL + "' --bogus-flag");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find("Unknown command line argument '--bogus-flag'"),
            std::string::npos)
      << result.output;
}

TEST(AnnotateCli, MissingOutputDirIsAnError) {
  CommandResult result = runCommand(std::string("'") + MP_ANNOTATE_TOOL + "' '" +
                                    inputPath("kv_store.h") + "' --");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find("output-dir"), std::string::npos) << result.output;
}

TEST(AnnotateCli, MissingInputIsAnError) {
  std::string out = freshWorkDir("missing_input");
  CommandResult result = runAnnotate({"does_not_exist.h"}, out);
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find("does_not_exist.h"), std::string::npos) << result.output;
  EXPECT_TRUE(listFiles(out, "").empty());
}

TEST(AnnotateCli, BuildPathWithoutCompilationDatabaseIsAnError) {
  std::string dir = freshWorkDir("empty_build_dir");
  CommandResult result = runCommand(std::string("'") + MP_ANNOTATE_TOOL + "' -p '" + dir +
                                    "' --output-dir '" + dir + "/out' '" +
                                    inputPath("kv_store.h") + "'");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("moonpool-annotate: error: no compile_commands.json in '" + dir +
                               "'"),
            std::string::npos)
      << result.output;
}

TEST(AnnotateCli, ReadsFlagsFromACompilationDatabase) {
  std::string dir = freshWorkDir("compile_db");
  std::ofstream(dir + "/compile_commands.json")
      << "[{\"directory\": \"" << dir << "\", \"file\": \"" << inputPath("kv_store.h")
      << "\", \"arguments\": [\"clang++\", \"-x\", \"c++-header\", \"-std=c++20\", \"-I"
      << MP_CORE_INCLUDE << "\", \"-c\", \"" << inputPath("kv_store.h") << "\"]}]\n";
  std::string out = dir + "/out";
  CommandResult result = runCommand(std::string("'") + MP_ANNOTATE_TOOL + "' -p '" + dir +
                                    "' --output-dir '" + out + "' --lock-dir '" + dir + "' '" +
                                    inputPath("kv_store.h") + "'");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(readFileOrEmpty(out + "/kv_store.capnp"),
            readFileOrEmpty(goldenPath("kv_store.capnp")));
}

}  // namespace
}  // namespace moonpool::annotate::testing
