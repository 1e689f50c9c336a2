// Helpers for the annotate tests: run a command, read files, and build the tool's command
// lines. Paths come from compile definitions set in test/annotate/CMakeLists.txt.
#pragma once

#include <string>
#include <vector>

#include "support/command.h"

namespace moonpool::annotate::testing {

using test_support::CommandResult;
using test_support::runCommand;

// Runs moonpool-annotate on `headers` (file names under the inputs directory) writing to
// `outputDir`, with -I for the runtime headers after `--`. Lock files go to `outputDir` too
// (--lock-dir), never into the source tree.
CommandResult runAnnotate(const std::vector<std::string>& headers, const std::string& outputDir);

// Runs moonpool-annotate on headers given by path, with `flags` before them (e.g.
// "--lock=check"); lock files are next to the headers unless `flags` says otherwise.
CommandResult runAnnotateOn(const std::vector<std::string>& headerPaths,
                            const std::string& outputDir, const std::string& flags);

void writeFile(const std::string& path, const std::string& contents);

// A fresh, empty directory under the test work directory.
std::string freshWorkDir(const std::string& name);

std::string inputPath(const std::string& fileName);
std::string goldenPath(const std::string& fileName);
std::string readFileOrEmpty(const std::string& path);

// The lines of `output` that contain ": error: ", in order.
std::vector<std::string> errorLines(const std::string& output);

// Entries of `dir` whose names end with `suffix`, sorted.
std::vector<std::string> listFiles(const std::string& dir, const std::string& suffix);

}  // namespace moonpool::annotate::testing
