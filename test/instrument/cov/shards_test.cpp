// Goal: the coverage of a run split with --shard=I/N is the union of its shards' coverage
// directories: moonpool-cov DIR_0 ... DIR_N-1 reports, for plain seeds, exactly what one
// unsharded run's directory gives (summary, sancov-style stats, HTML with its hit counts);
// explored shards' union covers each shard's; and a directory of another build, or a
// damaged one, is refused with a line naming it. The merged JSON's edge count is the union
// of the shards' covered-edge sets (moonpool-merge; check_union.py recomputes it).
// Method: maze_sim (its maze_lib is instrumented) as local shard processes, each with its
// own --coverage_dir, against one unsharded run.
#include <filesystem>

#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

namespace fs = std::filesystem;

// Shards 0..count-1 of `flags`, shard I recording into base/shard-I and writing
// base/shard-I.json; returns the directories, space-separated and quoted.
std::string runShards(const std::string& base, const std::string& flags, int count) {
  std::string dirs;
  for (int i = 0; i < count; ++i) {
    const std::string dir = base + "/shard-" + std::to_string(i);
    const CommandResult r = runMaze(dir, flags + " --shard=" + std::to_string(i) + "/" +
                                             std::to_string(count) +
                                             " --json=" + quote(dir + ".json"));
    EXPECT_TRUE(r.exitCode == 0 || r.exitCode == 1 || r.exitCode == 3) << r.output;
    dirs += " " + quote(dir);
  }
  return dirs;
}

// The text output without its first line (it counts the directories merged: "N run(s)").
std::string afterFirstLine(const std::string& text) { return text.substr(text.find('\n') + 1); }

TEST(CovShards, PlainShardsUnionToTheUnshardedRun) {
  const std::string base = freshWorkDir("plain");
  const std::string flags = "--noexplore --seeds=7";
  ASSERT_EQ(runMaze(base + "/whole", flags).exitCode, 3) << "a sometimes never holds";
  const std::string shards = runShards(base, flags, 3);
  const std::string whole = quote(base + "/whole");
  for (const std::string mode : {"--stats", "--covered_functions", ""}) {
    const CommandResult one = runCov(whole + " " + mode);
    const CommandResult merged = runCov(shards + " " + mode);
    ASSERT_EQ(one.exitCode, 0) << one.output;
    ASSERT_EQ(merged.exitCode, 0) << merged.output;
    EXPECT_EQ(afterFirstLine(merged.output), afterFirstLine(one.output)) << mode;
  }
  EXPECT_TRUE(contains(runCov(shards).output, "3 run(s), 7 timelines")) << "7 seeds in all";
  // The binary may follow the directories; the HTML (hit counts per line) is the same.
  const std::string htmlOne = base + "/html-one";
  const std::string htmlMerged = base + "/html-merged";
  ASSERT_EQ(runCov(whole + " --html=" + quote(htmlOne)).exitCode, 0);
  ASSERT_EQ(runCov(shards + " " + MP_MAZE_SIM + " --html=" + quote(htmlMerged)).exitCode, 0);
  const std::string page = "/files/examples_maze_maze.cpp.html";
  EXPECT_EQ(readFile(htmlMerged + page), readFile(htmlOne + page));
  EXPECT_EQ(readFile(htmlMerged + "/index.html"), readFile(htmlOne + "/index.html"));
}

TEST(CovShards, ExploredShardsUnionTheirEdges) {
  const std::string base = freshWorkDir("explored");
  const std::string shards = runShards(base, "--seeds=2", 2);
  const int covered = std::stoi(keyValues(runCov(shards + " --stats").output)["cov-edges"]);
  for (int i = 0; i < 2; ++i) {
    const std::string dir = quote(base + "/shard-" + std::to_string(i));
    EXPECT_LE(std::stoi(keyValues(runCov(dir + " --stats").output)["cov-edges"]), covered);
  }
  const CommandResult merged =
      run(std::string(MP_MERGE) + " " + quote(base + "/shard-0.json") + " " +
          quote(base + "/shard-1.json") + " -o " + quote(base + "/merged.json"));
  EXPECT_TRUE(merged.exitCode == 0 || merged.exitCode == 1) << merged.output;
  const CommandResult unioned = run("python3 " + quote(MP_CHECK_UNION) + " " +
                                    quote(base + "/merged.json") + " " +
                                    quote(base + "/shard-0.json") + " " +
                                    quote(base + "/shard-1.json"));
  EXPECT_EQ(unioned.exitCode, 0) << unioned.output;
  EXPECT_TRUE(contains(unioned.output, "edges_covered ")) << unioned.output;
}

void expectError(const std::string& args, const std::string& message) {
  const CommandResult r = runCov(args + " 2>&1");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "moonpool-cov: error: ")) << r.output;
  EXPECT_TRUE(contains(r.output, message)) << "expected '" << message << "' in:\n" << r.output;
}

TEST(CovShards, AnotherBuildOrADamagedShardIsRefused) {
  const std::string base = freshWorkDir("refused");
  const std::string shards = runShards(base, "--noexplore --seeds=2", 2);
  const std::string first = base + "/shard-0";
  // shard-1 as another build would have written it.
  const std::string other = base + "/other";
  fs::copy(base + "/shard-1", other);
  const std::string companion = onlyFile(other, ".moonpool-cov");
  std::string text = readFile(companion);
  text.replace(text.find("build-id ") + 9, 4, "0000");
  writeFile(companion, text);
  expectError(quote(first) + " " + quote(other),
              other + ": coverage of another build of maze_sim (build id 0000");
  expectError(quote(first) + " " + quote(other), "the shards of one run come from one binary");
  // Another instrumented simulation's directory: the object is not there.
  const std::string counters = base + "/counters";
  run(std::string(MP_MAZE_COUNTERS_SIM) + " --noexplore --seeds=1 --coverage_dir=" +
      quote(counters));
  expectError(quote(first) + " " + quote(counters), "no coverage of 'maze_sim'");
  // A damaged shard, a missing one.
  const std::string damaged = base + "/damaged";
  fs::copy(base + "/shard-1", damaged);
  const std::string broken = onlyFile(damaged, ".moonpool-cov");
  writeFile(broken, readFile(broken).substr(0, readFile(broken).rfind("end\n")));
  expectError(quote(first) + " " + quote(damaged), "truncated: no 'end' line");
  expectError(quote(first) + " " + quote(base + "/none"), "not a directory");
}

}  // namespace
}  // namespace moonpool::covtest
