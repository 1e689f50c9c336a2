// Goal: a run split with --shard=I/N over N processes and merged by moonpool-merge is the
// run: the merged report of plain seeds equals one unsharded run over the same seeds field
// by field (except timings and the two values report_merge.h documents), with workers
// inside a shard too; assertion contracts are judged on the union (a sometimes held in one
// shard only holds for the run); explored shards' maps and covered edges are unioned, with
// exact counts (the dungeon's two shards reach more bits together than either alone); and
// the merge refuses what is not one run or a corrupt map, each with a clear line and its
// exit code.
// Method: run counter_sim (--bug_one_in plants a double apply; "a large add (over 90)" is a
// sometimes-assertion) as N concurrent local processes, merge their JSON reports with
// moonpool-merge, and compare with compare_reports.py and check_reports.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "json_check.h"
#include "support/command.h"

namespace moonpool {
namespace {

using test_support::CommandResult;
using test_support::contains;
using test_support::quote;
using test_support::runCommand;

std::string sim(const std::string& args) { return quote(COUNTER_SIM) + " " + args; }

std::string readText(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::string lastLine(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Runs shards 0..count-1 of `args` at once (shard I with `extra[I]` added), each writing
// dir/shard-I.json; returns their exit codes.
std::vector<int> runShards(const std::string& dir, const std::string& args, int count,
                           const std::vector<std::string>& extra = {},
                           const std::string& binary = COUNTER_SIM) {
  std::string script;
  for (int i = 0; i < count; ++i) {
    const std::string base = dir + "/shard-" + std::to_string(i);
    const std::string more = i < static_cast<int>(extra.size()) ? " " + extra[i] : "";
    script += "( " + quote(binary) + " " + args + more + " --shard=" + std::to_string(i) +
              "/" + std::to_string(count) + " --json=" + quote(base + ".json") +
              " >" + quote(base + ".txt") + " 2>&1; echo $? >" + quote(base + ".rc") + " ) & ";
  }
  const CommandResult r = runCommand(script + "wait");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  std::vector<int> codes;
  for (int i = 0; i < count; ++i) {
    codes.push_back(std::stoi("0" + readText(dir + "/shard-" + std::to_string(i) + ".rc")));
  }
  return codes;
}

std::string shardFiles(const std::string& dir, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += " " + quote(dir + "/shard-" + std::to_string(i) + ".json");
  return out;
}

CommandResult merge(const std::string& args) { return runCommand(quote(MOONPOOL_MERGE) + args); }

struct Refusal {
  std::string args;
  int exitCode;
  std::string message;
};

TEST(RunnerShardTest, MergedShardsEqualOneUnshardedRun) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "equal");
  const std::string args = "--seeds=300 --bug_one_in=150 --ops=20";
  // Shard 1 deals its seeds to two workers of its own.
  const std::vector<int> codes = runShards(dir, args, 3, {"", "--jobs=2", ""});
  EXPECT_EQ(codes, (std::vector<int>{1, 1, 1})) << readText(dir + "/shard-0.txt");
  // The whole run with two workers too: `jobs` is the largest shard's.
  const CommandResult whole =
      runCommand(sim(args + " --jobs=2 --json=" + quote(dir + "/whole.json")));
  ASSERT_EQ(whole.exitCode, 1) << whole.output;
  const CommandResult merged = merge(shardFiles(dir, 3) + " -o " + quote(dir + "/merged.json") +
                                     " --junit=" + quote(dir + "/merged.xml"));
  EXPECT_EQ(merged.exitCode, whole.exitCode) << merged.output;
  EXPECT_EQ(lastLine(merged.output), lastLine(whole.output));
  EXPECT_TRUE(contains(merged.output, "  merged: 3 shard reports (moonpool-merge)"));
  const CommandResult same = runCommand("python3 " + quote(COMPARE_REPORTS) + " " +
                                        quote(dir + "/whole.json") + " " +
                                        quote(dir + "/merged.json"));
  EXPECT_EQ(same.exitCode, 0) << same.output;
  const CommandResult valid =
      runCommand("python3 " + quote(CHECK_REPORTS) + " --json " + quote(dir + "/merged.json") +
                 " --junit " + quote(dir + "/merged.xml") + " --expect-failing 1");
  EXPECT_EQ(valid.exitCode, 0) << valid.output;
  const CommandResult validShard = runCommand("python3 " + quote(CHECK_REPORTS) + " --json " +
                                              quote(dir + "/shard-1.json"));
  EXPECT_EQ(validShard.exitCode, 0) << validShard.output;
  // Each shard ran its own indices, and said which shard it was.
  std::string error;
  const std::optional<runner_testing::JsonValue> shard =
      runner_testing::parseJson(readText(dir + "/shard-1.json"), error);
  ASSERT_TRUE(shard.has_value()) << error;
  EXPECT_EQ(shard->get("shard")->get("index")->number, 1);
  EXPECT_EQ(shard->get("shard")->get("count")->number, 3);
  EXPECT_EQ(shard->get("totals")->get("seeds")->number, 100);
  for (const runner_testing::JsonValue& seed : shard->get("seeds")->items) {
    EXPECT_EQ(static_cast<int>(seed.get("index")->number) % 3, 1);
  }
  EXPECT_TRUE(contains(readText(dir + "/shard-1.txt"), "  shard: 1 of 3 ("));
  // Progress counts the shard's own seeds: indices 1, 4, ..., 28 of 30.
  const CommandResult progress = runCommand(sim("--seeds=30 --shard=1/3 --progress"));
  EXPECT_TRUE(contains(progress.output, "[progress] counter: 10 seeds of 10 (")) << progress.output;
}

TEST(RunnerShardTest, ContractsAreJudgedOnTheUnion) {
  // One add per seed: "a large add (over 90)" holds in shard 0's seeds only.
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "union");
  const std::vector<int> codes = runShards(dir, "--seeds=20 --ops=1", 4);
  EXPECT_EQ(codes, (std::vector<int>{0, 3, 3, 3})) << "shards 1-3 alone have a coverage gap";
  const CommandResult merged = merge(shardFiles(dir, 4) + " -o " + quote(dir + "/merged.json"));
  EXPECT_EQ(merged.exitCode, 0) << merged.output;
  EXPECT_EQ(lastLine(merged.output), "All 20 seeds passed.") << merged.output;
  const CommandResult whole = runCommand(sim("--seeds=20 --ops=1 --json=" +
                                             quote(dir + "/whole.json")));
  EXPECT_EQ(whole.exitCode, 0) << whole.output;
  const CommandResult same = runCommand("python3 " + quote(COMPARE_REPORTS) + " " +
                                        quote(dir + "/whole.json") + " " +
                                        quote(dir + "/merged.json"));
  EXPECT_EQ(same.exitCode, 0) << same.output;
  // Fewer seeds: it holds nowhere, and the merged run has the gap (exit 3) as one run does.
  const std::string few = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "gap");
  EXPECT_EQ(runShards(few, "--seeds=6 --ops=1", 2), (std::vector<int>{3, 3}));
  const CommandResult gap = merge(shardFiles(few, 2));
  EXPECT_EQ(gap.exitCode, 3) << gap.output;
  EXPECT_EQ(lastLine(gap.output).rfind("COVERAGE GAP: no bug, but 1 assertion contract(s)", 0),
            0u)
      << gap.output;
  EXPECT_EQ(runCommand(sim("--seeds=6 --ops=1")).exitCode, 3);
}

TEST(RunnerShardTest, ExploredRootsAreSplitToo) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "explored");
  const std::vector<int> codes = runShards(dir, "--explore --seeds=12 --bug_one_in=400", 2);
  for (const int code : codes) EXPECT_TRUE(code == 0 || code == 1) << code;
  std::string error;
  const std::optional<runner_testing::JsonValue> shard =
      runner_testing::parseJson(readText(dir + "/shard-1.json"), error);
  ASSERT_TRUE(shard.has_value()) << error;
  EXPECT_TRUE(shard->get("explored")->boolean);
  EXPECT_EQ(shard->get("totals")->get("seeds")->number, 6);
  for (const runner_testing::JsonValue& seed : shard->get("seeds")->items) {
    EXPECT_EQ(static_cast<int>(seed.get("index")->number) % 2, 1);
    EXPECT_NE(seed.get("exploration"), nullptr) << "each root was explored";
  }
  const CommandResult merged = merge(shardFiles(dir, 2) + " -o " + quote(dir + "/merged.json"));
  EXPECT_TRUE(contains(merged.output, "seeds run        12 (")) << merged.output;
  EXPECT_TRUE(contains(merged.output, "Exploration (")) << merged.output;
  const CommandResult valid =
      runCommand("python3 " + quote(CHECK_REPORTS) + " --json " + quote(dir + "/merged.json"));
  EXPECT_EQ(valid.exitCode, 0) << valid.output;
  // The explored maps are unioned, not the largest shard's: the merged sets are the OR of
  // the shards' and their counts are exact.
  const CommandResult unioned = runCommand("python3 " + quote(CHECK_UNION) + " " +
                                           quote(dir + "/merged.json") + shardFiles(dir, 2));
  EXPECT_EQ(unioned.exitCode, 0) << unioned.output;
}

#ifdef DUNGEON_SIM
TEST(RunnerShardTest, TheDungeonsShardsReachMoreTogetherThanAnyAlone) {
  // Each shard's explorer carries its own map over its roots: the two shards discover bits
  // the other does not, and the merged count is the union's, above the largest shard's.
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "dungeon");
  runShards(dir, "--explore --seeds=4", 2, {}, DUNGEON_SIM);
  const CommandResult merged = merge(shardFiles(dir, 2) + " -o " + quote(dir + "/merged.json"));
  EXPECT_EQ(merged.exitCode, 1) << "the dungeon's bug is found: " << merged.output;
  const CommandResult unioned = runCommand("python3 " + quote(CHECK_UNION) + " " +
                                           quote(dir + "/merged.json") + shardFiles(dir, 2));
  ASSERT_EQ(unioned.exitCode, 0) << unioned.output;
  int bits = 0, largest = 0;
  ASSERT_EQ(std::sscanf(unioned.output.c_str(), "bitmap_bits %d (largest shard %d)", &bits,
                        &largest),
            2)
      << unioned.output;
  EXPECT_GT(bits, largest) << unioned.output;
  EXPECT_TRUE(contains(merged.output, "explored map     " + std::to_string(bits) + " bitmap"))
      << merged.output;
}
#endif

// Rewrites dir/shard-1.json's exploration object with `change` (Python, `e` the object,
// `base64` imported) into dir/<name>.json.
std::string editExploration(const std::string& dir, const std::string& name,
                            const std::string& change) {
  const std::string path = dir + "/" + name + ".json";
  const CommandResult r = runCommand(
      "python3 -c 'import base64,json,sys; r=json.load(open(sys.argv[1])); e=r[\"exploration\"]; " +
      change + "; json.dump(r, open(sys.argv[2], \"w\"))' " + quote(dir + "/shard-1.json") +
      " " + quote(path));
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return quote(path);
}

TEST(RunnerShardTest, ExploredMapsAreUnionedExactly) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "maps");
  runShards(dir, "--explore --seeds=4 --ops=20", 2);
  // Shard 1 as if it had reached only map bit 8191, which shard 0 has not: the union is
  // larger than either shard (the previous merge kept the largest shard's count).
  const std::string lastBit = editExploration(
      dir, "last_bit",
      "m=bytearray(1024); m[1023]=0x80; e[\"explored_map\"]=base64.b64encode(m).decode(); "
      "e[\"bitmap_bits\"]=1");
  const std::string s0 = quote(dir + "/shard-0.json");
  const CommandResult merged = merge(" " + s0 + " " + lastBit + " -o " + quote(dir + "/m.json"));
  ASSERT_EQ(merged.exitCode, 0) << merged.output;
  const CommandResult unioned = runCommand("python3 " + quote(CHECK_UNION) + " " +
                                           quote(dir + "/m.json") + " " + s0 + " " + lastBit);
  EXPECT_EQ(unioned.exitCode, 0) << unioned.output;
  EXPECT_TRUE(contains(unioned.output, "bitmap_bits 2 (largest shard 1)")) << unioned.output;
  // A corrupt set is refused, naming the field.
  const Refusal cases[] = {
      {editExploration(dir, "b64", "e[\"explored_map\"]=\"*not base64*\""), 2,
       "exploration.explored_map: not padded base64"},
      {editExploration(dir, "short", "e[\"explored_map\"]=e[\"explored_map\"][4:]"), 2,
       "exploration.explored_map: 1021 bytes, a set of 8192 bits has 1024"},
      {editExploration(dir, "count", "e[\"bitmap_bits\"]+=1"), 2,
       "bits set, but exploration.bitmap_bits says "},
      {editExploration(dir, "nomap", "del e[\"explored_map\"]"), 2,
       "exploration.explored_map: missing"},
      {editExploration(dir, "edges", "e[\"covered_edges\"]=\"AA==\""), 2,
       "exploration.covered_edges: 1 bytes, a set of 0 bits has 0"},
  };
  for (const Refusal& c : cases) {
    const CommandResult r = merge(" " + s0 + " " + c.args);
    EXPECT_EQ(r.exitCode, c.exitCode) << c.args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.message)) << "expected '" << c.message << "' in\n"
                                               << r.output;
  }
}

TEST(RunnerShardTest, TheMergeRefusesWhatIsNotOneRun) {
  const std::string dir = test_support::freshWorkDir(RUNNER_TEST_WORK_DIR, "refuse");
  runShards(dir, "--seeds=6", 2);
  const std::string s0 = quote(dir + "/shard-0.json");
  const std::string s1 = quote(dir + "/shard-1.json");
  const std::string edit = "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); ";
  const std::string write = "; json.dump(r, open(sys.argv[2], \"w\"))' " + s1 + " ";
  const auto variant = [&](const std::string& name, const std::string& change) {
    const std::string path = dir + "/" + name + ".json";
    EXPECT_EQ(runCommand(edit + change + write + quote(path)).exitCode, 0) << name;
    return quote(path);
  };
  const std::string otherBuild = variant("build", "r[\"build_id\"] = \"0123456789abcdef\"");
  const std::string noSteps = variant("steps", "del r[\"totals\"][\"steps\"]");
  const std::string threeShards = variant("three", "r[\"shard\"][\"count\"] = 3");
  const std::string otherFlags = variant("flags", "r[\"repro_flags\"] = [\"--ops=5\"]");
  const std::string oldVersion = variant("version", "r[\"version\"] = 2");
  std::ofstream(dir + "/truncated.json") << readText(dir + "/shard-1.json").substr(0, 200);
  std::ofstream(dir + "/other.json") << "{\"format\": \"something else\"}";
  runCommand(sim("--seeds=6 --json=" + quote(dir + "/whole.json")));
  const Refusal cases[] = {
      {s0 + " " + s0, 2, "shard 0/2 is given twice (overlapping shards)"},
      {s0, 2, "missing shard(s) 1 of 2: the merge would not be the run"},
      {s0 + " " + otherBuild, 4, "shard 1 is of build 0123456789abcdef, shard 0 of build "},
      {s0 + " " + otherFlags, 2, "shards 0 and 1 are not of one run: their simulation flags"},
      {s0 + " " + threeShards, 2, "shard counts differ: 0/2 and 1/3"},
      {s0 + " " + noSteps, 2, "steps.json: report.totals.steps: missing"},
      {s0 + " " + oldVersion, 2, "report.version: 2, this tool reads version 3"},
      {s0 + " " + quote(dir + "/truncated.json"), 2, "truncated.json: not JSON: "},
      {s0 + " " + quote(dir + "/other.json"), 2, "other.json: not a moonpool run report"},
      {s0 + " " + quote(dir + "/whole.json"), 2, "whole.json: not a shard report"},
      {s0 + " " + quote(dir + "/none.json"), 2, "none.json: cannot read it: No such file"},
      {" --frobnicate " + s0, 2, "unknown option --frobnicate"},
      {"", 2, "no shard report given"},
  };
  for (const Refusal& c : cases) {
    const CommandResult r = merge(" " + c.args);
    EXPECT_EQ(r.exitCode, c.exitCode) << c.args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.message)) << "expected '" << c.message << "' in\n"
                                               << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
  EXPECT_EQ(merge(" " + s1 + " " + s0).exitCode, 0) << "any order";
}

}  // namespace
}  // namespace moonpool
