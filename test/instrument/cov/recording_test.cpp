// Goal: --coverage_dir records every seed wherever it ran: plain seeds in one process or in
// --jobs workers, a replayed recipe, explored timelines; the first reacher of each edge is a
// plain seed when one reached it, a recipe only when exploration alone did; misuse is a
// usage error.
// Method: maze_sim runs with each mode; the .moonpool-cov files are parsed, moonpool-cov
// --stats and --diff compare runs.
#include <vector>

#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

struct Companion {
  std::string timelines;            // "<all> <forked>"
  std::vector<std::string> origins;
  std::vector<std::vector<std::uint64_t>> coveredEdges;  // hits, timelines, seed, explored
};

Companion parse(const std::string& dir) {
  std::istringstream in(readFile(onlyFile(dir, ".moonpool-cov")));
  Companion out;
  std::string line;
  while (std::getline(in, line) && line.rfind("origins ", 0) != 0) {
    if (line.rfind("timelines ", 0) == 0) out.timelines = line.substr(10);
  }
  for (int n = std::stoi(line.substr(8)); n > 0 && std::getline(in, line); --n) {
    out.origins.push_back(line);
  }
  std::getline(in, line);  // edges <n>
  while (std::getline(in, line) && line.rfind("sancov ", 0) != 0) {
    std::istringstream fields(line);
    std::string block, call;
    std::vector<std::uint64_t> numbers(4);
    fields >> block >> call >> numbers[0] >> numbers[1] >> numbers[2] >> numbers[3];
    if (numbers[0] > 0) out.coveredEdges.push_back(numbers);
  }
  return out;
}

TEST(CovRecording, PlainSeedsInWorkersRecordWhatOneProcessRecords) {
  const std::string one = freshWorkDir("one");
  const std::string three = freshWorkDir("three");
  ASSERT_EQ(runMaze(one, "--noexplore --seeds=12").exitCode, 3);  // a sometimes never holds
  ASSERT_EQ(runMaze(three, "--noexplore --seeds=12 --jobs=3").exitCode, 3);
  const Companion a = parse(one);
  const Companion b = parse(three);
  EXPECT_EQ(a.timelines, "12 0");
  EXPECT_EQ(b.timelines, "12 0");
  ASSERT_FALSE(a.coveredEdges.empty());
  EXPECT_EQ(a.coveredEdges.size(), b.coveredEdges.size());
  for (std::size_t i = 0; i < a.coveredEdges.size() && i < b.coveredEdges.size(); ++i) {
    EXPECT_EQ(a.coveredEdges[i][0], b.coveredEdges[i][0]) << "hits add up across workers";
    EXPECT_EQ(a.coveredEdges[i][1], b.coveredEdges[i][1]) << "timelines add up";
    EXPECT_GT(a.coveredEdges[i][2], 0u) << "a plain seed reached it first";
    EXPECT_EQ(a.coveredEdges[i][3], 0u) << "nothing was explored";
  }
  for (const std::string& origin : a.origins) {
    EXPECT_EQ(origin.find('+'), std::string::npos) << "plain seeds have no recipe: " << origin;
  }
}

TEST(CovRecording, ExplorationReachesWhatPlainSeedsDoNotAndDiffSaysSo) {
  const std::string plain = freshWorkDir("plain");
  const std::string explored = freshWorkDir("explored");
  ASSERT_EQ(runMaze(plain, "--noexplore --seeds=1").exitCode, 3);
  runMaze(explored, "--seeds=1 --energy=300 --jobs=2");  // timelines in parallel
  const Companion e = parse(explored);
  EXPECT_EQ(e.timelines, "301 300") << "the root and its 300 forked timelines";
  bool exploredOnly = false;
  for (const auto& edge : e.coveredEdges) exploredOnly |= edge[2] == 0 && edge[3] > 0;
  EXPECT_TRUE(exploredOnly) << "some edge was reached only by a forked timeline";
  const CommandResult diff = runCov("--diff " + quote(plain) + " " + quote(explored));
  ASSERT_EQ(diff.exitCode, 0) << diff.output;
  EXPECT_TRUE(contains(diff.output, "edge(s), exploration only")) << diff.output;
  EXPECT_TRUE(contains(diff.output, "--replay='1 + ")) << diff.output;
  EXPECT_TRUE(contains(diff.output, "A reached 0 line(s) that B did not")) << diff.output;
}

TEST(CovRecording, AReplayIsRecordedUnderItsRecipe) {
  const std::string dir = freshWorkDir("replay");
  const std::string recipe = "1 + 9@95dcd17ab00a4dda -> 12@e14bca09b40af361";
  runMaze(dir, "--replay=" + quote(recipe));
  const Companion c = parse(dir);
  EXPECT_EQ(c.timelines, "1 0");
  ASSERT_EQ(c.origins.size(), 1u);
  EXPECT_EQ(c.origins[0], recipe);
}

TEST(CovRecording, MisuseIsAUsageError) {
  const std::string dir = freshWorkDir("misuse");
  const CommandResult plain = run(std::string(MP_COUNTER_SIM) + " --seeds=1 --coverage_dir=" +
                                  quote(dir) + " 2>&1");
  EXPECT_EQ(plain.exitCode, 2);
  EXPECT_TRUE(contains(plain.output, "no instrumented code")) << plain.output;
  const CommandResult noEdges = runMaze(dir, "--seeds=1 --edge_coverage=false 2>&1");
  EXPECT_EQ(noEdges.exitCode, 2);
  EXPECT_TRUE(contains(noEdges.output, "drop --noedge_coverage")) << noEdges.output;
  const CommandResult file = runMaze(std::string(MP_MAZE_SIM) + "/x", "--seeds=1 2>&1");
  EXPECT_EQ(file.exitCode, 2);
  EXPECT_TRUE(contains(file.output, "cannot create directory")) << file.output;
}

}  // namespace
}  // namespace moonpool::covtest
