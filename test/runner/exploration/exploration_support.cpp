// Helpers shared by the exploration tests (see exploration_support.h).
#include "exploration_support.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace moonpool::exploration_testing {

RunReport runSeeds(const SimulationBuilder& builder, std::uint64_t firstSeed,
                   std::uint64_t seeds, std::optional<explorer::Config> config,
                   std::uint32_t jobs) {
  RunOptions options;
  options.iteration = IterationControl::fixedCount(seeds);
  options.firstSeed = firstSeed;
  options.jobs = jobs;
  options.coverage = CoverageContracts::kReportOnly;
  options.explore = config ? ExploreMode::kOn : ExploreMode::kOff;
  options.exploration = config;
  return runSimulation(builder, options);
}

RunReport replay(const SimulationBuilder& builder, const std::string& recipe) {
  explorer::Recipe parsed;
  char error[256] = {};
  if (!explorer::parseRecipe(recipe.c_str(), parsed, error, sizeof error)) {
    RunReport failed;
    failed.stopReason = std::string("unparsable recipe: ") + error;
    return failed;
  }
  RunOptions options;
  options.replay = parsed;
  options.coverage = CoverageContracts::kReportOnly;
  return runSimulation(builder, options);
}

const SiteResult* findSite(const RunReport& report, std::string_view message) {
  for (const SiteResult& site : report.assertions.sites) {
    if (site.message == message) return &site;
  }
  return nullptr;
}

std::vector<int> zombieChildren() {
  std::vector<int> out;
  const int self = static_cast<int>(getpid());
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* entry = readdir(proc)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the
    // last ')'.
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (state == 'Z' && ppid == self) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

bool noChildLeft() {
  int status = 0;
  return waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace moonpool::exploration_testing
