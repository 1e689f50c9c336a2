// Test helpers for running moonpool-annotate, capnp and clang (see run_tool.h).
#include "run_tool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace moonpool::annotate::testing {

CommandResult runAnnotate(const std::vector<std::string>& headers, const std::string& outputDir) {
  std::vector<std::string> paths;
  for (const std::string& header : headers) paths.push_back(inputPath(header));
  return runAnnotateOn(paths, outputDir, "--lock-dir " + test_support::quote(outputDir));
}

CommandResult runAnnotateOn(const std::vector<std::string>& headerPaths,
                            const std::string& outputDir, const std::string& flags) {
  std::string command = test_support::quote(MP_ANNOTATE_TOOL) + " --output-dir " +
                        test_support::quote(outputDir) + " " + flags;
  for (const std::string& header : headerPaths) command += " " + test_support::quote(header);
  command += " -- -I" + test_support::quote(MP_CORE_INCLUDE);
  return runCommand(command);
}

void writeFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

std::string freshWorkDir(const std::string& name) {
  return test_support::freshWorkDir(MP_ANNOTATE_WORK_DIR, name);
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
