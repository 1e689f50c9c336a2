// Goal: the README's guides ("Your first simulation", "Your first service", "Virtual
// actors") show only code that is compiled and run: every code block in them is a verbatim
// excerpt of a file under examples/guides or test/package/actor_consumer, which
// package_guides_test and package_actor_test build against the installed package and run.
// Method: parse the guides' sections of README.md; each fenced block must follow a
// `<!-- file: <path> -->` line and appear, line for line, as consecutive lines of that file.
// The checker is also run on hand-made READMEs, to see it refuse a drifted block, a block
// without a file line and a missing file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr char kFirstGuide[] = "## Your first simulation";
constexpr char kAfterGuides[] = "## Using moonpool from another CMake project";
constexpr char kActorGuide[] = "## Virtual actors";
constexpr char kAfterActorGuide[] = "## Contributing";
constexpr char kFileMarker[] = "<!-- file: ";
constexpr char kFence[] = "```";

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool containsLines(const std::vector<std::string>& file, const std::vector<std::string>& block) {
  if (block.empty() || block.size() > file.size()) return false;
  for (std::size_t start = 0; start + block.size() <= file.size(); ++start) {
    std::size_t i = 0;
    while (i < block.size() && file[start + i] == block[i]) ++i;
    if (i == block.size()) return true;
  }
  return false;
}

struct Checked {
  int blocks = 0;
  std::vector<std::string> problems;
};

// Checks every block of `readme` in the guides' sections (between kFirstGuide and
// kAfterGuides, and between kActorGuide and kAfterActorGuide); paths are relative to `root`.
Checked checkGuides(const std::string& readme, const std::string& root) {
  Checked out;
  const std::vector<std::string> lines = splitLines(readme);
  bool inGuides = false;
  std::string marker;  // the file line before the next block
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line == kFirstGuide || line == kActorGuide) inGuides = true;
    if (line == kAfterGuides || line == kAfterActorGuide) inGuides = false;
    if (!inGuides) continue;
    if (line.rfind(kFileMarker, 0) == 0) {
      marker = line.substr(sizeof kFileMarker - 1, line.find(" -->") - (sizeof kFileMarker - 1));
      continue;
    }
    if (line.rfind(kFence, 0) != 0) continue;
    std::vector<std::string> block;
    std::size_t end = i + 1;
    while (end < lines.size() && lines[end] != kFence) block.push_back(lines[end++]);
    ++out.blocks;
    const std::string where = "README.md:" + std::to_string(i + 1);  // the opening fence
    if (marker.empty()) {
      out.problems.push_back(where + ": a code block without a '<!-- file: ... -->' line");
    } else if (std::string file = readFile(root + "/" + marker); file.empty()) {
      out.problems.push_back(where + ": cannot read '" + marker + "'");
    } else if (!containsLines(splitLines(file), block)) {
      out.problems.push_back(where + ": the block is not an excerpt of '" + marker + "'");
    }
    marker.clear();
    i = end;
  }
  return out;
}

TEST(Readme, GuideBlocksAreExcerptsOfBuiltFiles) {
  const Checked checked = checkGuides(readFile(MOONPOOL_SOURCE_DIR "/README.md"),
                                      MOONPOOL_SOURCE_DIR);
  EXPECT_GE(checked.blocks, 17);  // the three guides are there
  for (const std::string& problem : checked.problems) ADD_FAILURE() << problem;
}

TEST(Readme, TheCheckerRefusesDriftAndUnmarkedBlocks) {
  const std::string root = MOONPOOL_SOURCE_DIR;
  const std::string file = "<!-- file: examples/guides/first_service/tally_test.cpp -->\n";
  const std::string readme = std::string(kFirstGuide) + "\n" + file +
                             "```cpp\nTEST(Tally, SurvivesNetworkChaos) {\n```\n" + file +
                             "```cpp\nTEST(Tally, Drifted) {\n```\n" +
                             "```sh\n./tally_test\n```\n" +
                             "<!-- file: examples/guides/no_such_file.cpp -->\n```cpp\nx\n```\n";
  const Checked checked = checkGuides(readme, root);
  EXPECT_EQ(checked.blocks, 4);
  ASSERT_EQ(checked.problems.size(), 3u);
  EXPECT_EQ(checked.problems[0], "README.md:7: the block is not an excerpt of "
                                 "'examples/guides/first_service/tally_test.cpp'");
  EXPECT_EQ(checked.problems[1], "README.md:10: a code block without a '<!-- file: ... -->' line");
  EXPECT_EQ(checked.problems[2], "README.md:14: cannot read 'examples/guides/no_such_file.cpp'");
}

}  // namespace
