// Goal: the HTML report opens in a browser, lists maze.cpp, and shows the line of the planted
// bug's assertion covered, with edges reached only by exploration and the recipe that
// reached them, a recipe that replays the bug (issue 17, second acceptance point).
// Method: maze_sim explores one seed (two timelines at a time) with --coverage_dir,
// moonpool-cov --html renders it, Debian's chromium loads the pages headless (--dump-dom, and
// --screenshot), and the replay command copied from the page runs.
#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

constexpr const char* kChromiumFlags = " --headless --no-sandbox --disable-gpu ";

std::string chromium(const std::string& flags, const std::string& page) {
  // A hung browser must not hang the suite.
  const CommandResult r = run("timeout 60 " + std::string(MP_CHROMIUM) + kChromiumFlags + flags +
                              " " + quote("file://" + page) + " 2>/dev/null");
  EXPECT_EQ(r.exitCode, 0) << "chromium " << flags << " " << page;
  return r.output;
}

// The <tr> of `line` in a dumped page.
std::string row(const std::string& dom, int line) {
  const std::size_t begin = dom.find("<tr id=\"L" + std::to_string(line) + "\"");
  if (begin == std::string::npos) return "";
  return dom.substr(begin, dom.find("</tr>", begin) - begin);
}

std::string unescape(std::string text) {
  for (const auto& [from, to] : {std::pair{"&gt;", ">"}, std::pair{"&lt;", "<"},
                                 std::pair{"&#39;", "'"}, std::pair{"&amp;", "&"}}) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, std::string(from).size(), to);
      at += std::string(to).size();
    }
  }
  return text;
}

TEST(CovMazeHtml, ChromiumShowsThePlantedBugLineReachedOnlyByExploration) {
  ASSERT_STRNE(MP_CHROMIUM, "") << "chromium not found: install it (scripts/setup.sh)";
  const std::string dir = freshWorkDir("coverage");
  // Two timelines at once, and no new fork once the bug is found: the search takes a third
  // of the sequential time on two cores (the maze finds its bug in parallel too: maze.cpp).
  const CommandResult maze = runMaze(dir, "--seeds=1 --jobs=2 --stop_at_first_bug");
  ASSERT_EQ(maze.exitCode, 1) << "the exploration finds the planted bug: " << maze.output;
  const std::string html = freshWorkDir("html");
  const CommandResult rendered = runCov(quote(dir) + " --html=" + quote(html) + " 2>/dev/null");
  ASSERT_EQ(rendered.exitCode, 0) << rendered.output;
  const std::string index = html + "/index.html";
  EXPECT_TRUE(contains(rendered.output, index)) << "prints the index path: " << rendered.output;

  const std::string indexDom = chromium("--dump-dom", index);
  EXPECT_TRUE(contains(indexDom, ">examples/maze/maze.cpp</a>")) << indexDom;

  const std::string page = html + "/files/examples_maze_maze.cpp.html";
  const std::string dom = chromium("--dump-dom", page);
  const int line = mazeLine("MOONPOOL_ALWAYS(state.open != kAllOpen, \"all 4 locks opened\")");
  ASSERT_GT(line, 0);
  const std::string bugRow = row(dom, line);
  ASSERT_FALSE(bugRow.empty()) << dom.substr(0, 2000);
  EXPECT_TRUE(contains(bugRow, "class=\"partial\"") || contains(bugRow, "class=\"covered\""))
      << bugRow;
  EXPECT_TRUE(contains(bugRow, "exploration only")) << bugRow;
  const std::size_t replay = bugRow.rfind("--replay=");  // the text, after the title
  ASSERT_NE(replay, std::string::npos) << bugRow;

  // The command on that line reproduces the bug, in one process.
  const std::size_t start = bugRow.rfind('>', replay) + 1;
  const std::string command = unescape(bugRow.substr(start, bugRow.find('<', replay) - start));
  const CommandResult replayed = run(command + " 2>&1");
  EXPECT_EQ(replayed.exitCode, 1) << command << "\n" << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "always \"all 4 locks opened\"")) << replayed.output;

  const std::string shot = html + "/maze.png";
  chromium("--screenshot=" + quote(shot) + " --window-size=1300,2400", page);
  const std::string png = readFile(shot);
  ASSERT_GT(png.size(), 10000u) << "a screenshot of a rendered page";
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace moonpool::covtest
