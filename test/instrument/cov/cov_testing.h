// Helpers for the moonpool-cov tests: runs of maze_sim with --coverage_dir, moonpool-cov
// itself, and small parsers of their outputs (paths from test/instrument/cov/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "support/command.h"

namespace moonpool::covtest {

using test_support::CommandResult;
using test_support::contains;
using test_support::quote;

inline CommandResult run(const std::string& command) { return test_support::runCommand(command); }

inline std::string freshWorkDir(const std::string& name) {
  return test_support::freshWorkDir(MP_WORK_DIR, name);
}

// maze_sim with `flags` and --coverage_dir=<dir>; the maze exits 1 when it finds its bug.
inline CommandResult runMaze(const std::string& dir, const std::string& flags) {
  return run(std::string(MP_MAZE_SIM) + " " + flags + " --coverage_dir=" + quote(dir));
}

inline CommandResult runCov(const std::string& args) {
  return run(std::string(MP_COV) + " " + args);
}

// "key: value" lines (sancov -print-coverage-stats, moonpool-cov --stats).
inline std::map<std::string, std::string> keyValues(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(": ");
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return out;
}

// The one file in `dir` ending in `suffix`.
inline std::string onlyFile(const std::string& dir, const std::string& suffix) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    if (path.size() >= suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      EXPECT_TRUE(found.empty()) << "two files ending in " << suffix << " in " << dir;
      found = path;
    }
  }
  EXPECT_FALSE(found.empty()) << "no file ending in " << suffix << " in " << dir;
  return found;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The line number of the first line of maze.cpp containing `text`.
inline int mazeLine(const std::string& text) {
  std::ifstream in(std::string(MP_SOURCE_DIR) + "/examples/maze/maze.cpp");
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find(text) != std::string::npos) return number;
  }
  return 0;
}

}  // namespace moonpool::covtest
