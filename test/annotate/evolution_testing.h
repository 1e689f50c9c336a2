// Shared by the evolution guard tests (evolution_test.cpp, evolution_lock_test.cpp): the
// Evolution fixture, which puts versions of inputs/evolution/ in place as evo.h in a fresh
// work dir and runs the tool on them, and the expected message texts.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_tool.h"

namespace moonpool::annotate::testing {

namespace fs = std::filesystem;

inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class Evolution : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = freshWorkDir("evo"); }

  std::string header() const { return dir_ + "/evo.h"; }
  std::string lockPath() const { return dir_ + "/evo.moonpool.lock"; }
  std::string out() const { return dir_ + "/out"; }
  std::string lock() const { return readFileOrEmpty(lockPath()); }
  std::string schema() const { return readFileOrEmpty(out() + "/evo.capnp"); }

  // Puts inputs/evolution/<version> in place as evo.h and runs the tool on it.
  CommandResult run(const std::string& version, const std::string& flags = "") {
    fs::copy_file(inputPath("evolution/" + version), header(),
                  fs::copy_options::overwrite_existing);
    return runAnnotateOn({header()}, out(), flags);
  }

  // Locks base.h (the first run writes the lock file).
  void lockBase() {
    CommandResult first = run("base.h");
    ASSERT_EQ(first.exitCode, 0) << first.output;
    ASSERT_EQ(first.output, "");
    ASSERT_FALSE(lock().empty());
  }

  void editLock(const std::string& from, const std::string& to) {
    writeFile(lockPath(), replaced(lock(), from, to));
  }

  // Locks base.h, runs `version`: exactly `expected` error lines (each relative to the work
  // dir, "evo.h:17:15: error: ..."), exit code 1, and neither the lock nor outputs touched.
  void expectBreaks(const std::string& version, const std::vector<std::string>& expected) {
    lockBase();
    std::string lockBefore = lock();
    std::string schemaBefore = schema();
    CommandResult result = run(version);
    EXPECT_EQ(result.exitCode, 1) << result.output;
    std::vector<std::string> want;
    for (const std::string& line : expected) want.push_back(dir_ + "/" + line);
    EXPECT_EQ(errorLines(result.output), want) << result.output;
    EXPECT_EQ(lock(), lockBefore) << "the lock file changed despite errors";
    EXPECT_EQ(schema(), schemaBefore) << "the schema changed despite errors";
  }

  // Writes `damaged` as the lock file and runs the tool: exactly `error` (after
  // "evo.moonpool.lock:"), exit code 1, the lock file left as it was, and no outputs.
  void expectMalformedLock(const std::string& damaged, const std::string& error) {
    writeFile(lockPath(), damaged);
    std::string fresh = freshWorkDir("malformed_out");
    CommandResult result = runAnnotateOn({header()}, fresh, "");
    EXPECT_EQ(result.exitCode, 1) << error;
    EXPECT_EQ(errorLines(result.output),
              std::vector<std::string>{dir_ + "/evo.moonpool.lock:" + error})
        << result.output;
    EXPECT_EQ(lock(), damaged) << "a damaged lock file was rewritten";
    EXPECT_TRUE(listFiles(fresh, "").empty()) << "outputs written despite a bad lock file";
  }

  std::string dir_;
};

inline const std::string kBreaks = ", which breaks the wire format; ";

inline std::string moved(const std::string& where, const std::string& field, int from, int to) {
  return where + ": error: field '" + field + "' of message 'Put' moved from @" +
         std::to_string(from) + " to @" + std::to_string(to) + kBreaks + "pin it back with " +
         "'[[moonpool::ordinal(" + std::to_string(from) + ")]]', or declare new members after " +
         "the last one";
}

inline std::string retireHint(int ordinal, const std::string& word, int line) {
  return "retire @" + std::to_string(ordinal) + " (change '" + word + "' to 'retired' on line " +
         std::to_string(line) + " of evo.moonpool.lock, or run with --lock=update)";
}

}  // namespace moonpool::annotate::testing
