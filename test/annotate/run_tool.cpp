// Test helpers for running moonpool-annotate, capnp and clang (see run_tool.h).
#include "run_tool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace moonpool::annotate::testing {

CommandResult runCommand(const std::string& command) {
  CommandResult result;
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t count = 0;
  while ((count = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), count);
  }
  int status = pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult runAnnotate(const std::vector<std::string>& headers, const std::string& outputDir) {
  std::string command = std::string("'") + MP_ANNOTATE_TOOL + "' --output-dir '" + outputDir + "'";
  for (const std::string& header : headers) command += " '" + inputPath(header) + "'";
  command += std::string(" -- -I'") + MP_RUNTIME_INCLUDE + "'";
  return runCommand(command);
}

std::string freshWorkDir(const std::string& name) {
  // Scoped by the running test: ctest runs every test as its own process, in parallel, so
  // two tests must never share a directory.
  std::filesystem::path dir = std::filesystem::path(MP_ANNOTATE_WORK_DIR);
  if (const auto* test = ::testing::UnitTest::GetInstance()->current_test_info()) {
    dir /= std::string(test->test_suite_name()) + "." + test->name();
  }
  dir /= name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string inputPath(const std::string& fileName) {
  return std::string(MP_ANNOTATE_INPUTS) + "/" + fileName;
}

std::string goldenPath(const std::string& fileName) {
  return std::string(MP_ANNOTATE_GOLDEN) + "/" + fileName;
}

std::string readFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::vector<std::string> errorLines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(": error: ") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> listFiles(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace moonpool::annotate::testing
