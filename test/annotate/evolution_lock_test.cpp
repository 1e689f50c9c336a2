// Goal: the evolution guard's lock file (annotate/evolution.h, README.md "Evolution"):
// --lock=update retires removed members and accepts breaks, --lock=check needs an up-to-date
// lock and never writes it, --lock=off reads and writes none, bad lock flags are errors, the
// lock file is canonical and deterministic, and the tool never crashes on or silently
// ignores a malformed or unreadable lock file. Breaking changes are in evolution_test.cpp.
// Method: copy inputs/evolution/base.h to a work dir as evo.h and run the tool (which writes
// evo.moonpool.lock next to it), then copy an edited version over evo.h or edit the lock file
// and run again; compare the error lines, the lock file and the outputs
// (evolution_testing.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "evolution_testing.h"
#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

// --lock=update: breaks are accepted with a warning, removed members are retired, and the
// next default run is clean and byte-identical.
TEST_F(Evolution, UpdateRetiresRemovedMembersAndAcceptsBreaks) {
  lockBase();
  CommandResult result = run("method_removed.h", "--lock=update");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_TRUE(contains(result.output,
                       dir_ + "/evo.h:21:29: warning: method 'size' (@2) of service 'Store' was "
                              "removed (accepted by --lock=update: @2 is now retired)"))
      << result.output;
  EXPECT_TRUE(contains(lock(), "  retired 2 size -> UInt64\n")) << lock();
  EXPECT_TRUE(contains(schema(), "  retired2Size @2 () -> ();  # retired\n")) << schema();
  std::string lockAfter = lock();
  std::string schemaAfter = schema();
  CommandResult again = run("method_removed.h");
  EXPECT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(again.output, "");
  EXPECT_EQ(lock(), lockAfter);
  EXPECT_EQ(schema(), schemaAfter);

  CommandResult reordered = run("moved.h", "--lock=update");
  ASSERT_EQ(reordered.exitCode, 0) << reordered.output;
  EXPECT_TRUE(contains(reordered.output,
                       dir_ + "/evo.h:17:15: warning: field 'value' of message 'Put' moved "
                              "from @1 to @2 (accepted by --lock=update)"))
      << reordered.output;
  EXPECT_TRUE(contains(lock(), "  field 1 version UInt64\n  field 2 value Text\n")) << lock();
}

TEST_F(Evolution, UpdateDropsARemovedActor) {
  lockBase();
  CommandResult result = run("actor_removed.h", "--lock=update");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_TRUE(contains(result.output,
                       dir_ + "/evo.moonpool.lock:11:1: warning: actor 'evo::Counter' is in "
                              "evo.moonpool.lock but no longer declared (dropped by "
                              "--lock=update)"))
      << result.output;
  EXPECT_FALSE(contains(lock(), "Counter")) << lock();
}

TEST_F(Evolution, CheckModeNeedsALockFile) {
  CommandResult result = run("base.h", "--lock=check");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output),
            std::vector<std::string>{dir_ + "/evo.h:1:1: error: no lock file '" + lockPath() +
                                     "' (--lock=check); create it with --lock=auto and commit "
                                     "it"})
      << result.output;
  EXPECT_FALSE(fs::exists(lockPath()));
}

TEST_F(Evolution, CheckModeAcceptsAnUpToDateLockAndNeverWritesIt) {
  lockBase();
  std::string before = lock();
  CommandResult result = run("base.h", "--lock=check");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
  EXPECT_EQ(lock(), before);
}

TEST_F(Evolution, CheckModeRejectsAdditionsNotInTheLock) {
  lockBase();
  std::string before = lock();
  CommandResult added = run("field_added.h", "--lock=check");
  EXPECT_EQ(added.exitCode, 1);
  EXPECT_EQ(errorLines(added.output),
            std::vector<std::string>{dir_ +
                                     "/evo.h:19:8: error: field 'urgent' of message 'Put' is "
                                     "not in evo.moonpool.lock (--lock=check); run "
                                     "moonpool-annotate with --lock=auto and commit the lock "
                                     "file"})
      << added.output;
  // A new parameter has no line of its own: the lock as a whole is out of date.
  CommandResult param = run("param_added.h", "--lock=check");
  EXPECT_EQ(param.exitCode, 1);
  EXPECT_EQ(errorLines(param.output),
            std::vector<std::string>{dir_ +
                                     "/evo.moonpool.lock:1:1: error: evo.moonpool.lock is not "
                                     "in its canonical form (--lock=check); rewrite it with "
                                     "--lock=auto and commit it"})
      << param.output;
  EXPECT_EQ(lock(), before);
}

TEST_F(Evolution, LockOffReadsAndWritesNoLock) {
  CommandResult result = run("base.h", "--lock=off");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_FALSE(fs::exists(lockPath()));
  EXPECT_TRUE(contains(schema(), "  color @3 :Color;\n"));
}

TEST_F(Evolution, BadLockFlagsAreErrors) {
  CommandResult mode = run("base.h", "--lock=sometimes");
  EXPECT_EQ(mode.exitCode, 1);
  EXPECT_TRUE(contains(mode.output, "Cannot find option named 'sometimes'")) << mode.output;
  CommandResult dir = run("base.h", "--lock-dir '" + dir_ + "/missing'");
  EXPECT_EQ(dir.exitCode, 1);
  EXPECT_TRUE(contains(dir.output, "moonpool-annotate: error: --lock-dir '" + dir_ +
                                       "/missing' is not a directory; create it first"))
      << dir.output;
}

TEST_F(Evolution, TheLockFileIsCanonicalAndDeterministic) {
  const bool update = std::getenv("MOONPOOL_UPDATE_GOLDEN") != nullptr;
  lockBase();
  std::string written = lock();
  if (update) {
    std::ofstream(goldenPath("evolution_base.moonpool.lock"), std::ios::binary) << written;
  }
  EXPECT_EQ(written, readFileOrEmpty(goldenPath("evolution_base.moonpool.lock")));
  // Same input, another directory and run: byte-identical lock and outputs.
  std::string other = freshWorkDir("other");
  fs::copy_file(inputPath("evolution/base.h"), other + "/evo.h");
  ASSERT_EQ(runAnnotateOn({other + "/evo.h"}, other + "/out", "").exitCode, 0);
  EXPECT_EQ(readFileOrEmpty(other + "/evo.moonpool.lock"), written);
  for (const std::string& name : {"evo.capnp", "evo.moonpool.h", "evo.moonpool.cpp"}) {
    EXPECT_EQ(readFileOrEmpty(other + "/out/" + name), readFileOrEmpty(out() + "/" + name)) << name;
  }
  // Types in another order, comments, blank lines and indentation are read the same, and
  // the default mode writes the canonical text back (check mode rejects it).
  std::string shuffled = "# hand-edited\nmoonpool-lock 1\n";
  shuffled += written.substr(written.find("\nservice evo::Store"));
  shuffled += written.substr(written.find("\nenum"), written.find("\nservice evo::Store") -
                                                         written.find("\nenum"));
  writeFile(lockPath(), replaced(shuffled, "  field 0 key Text", "\tfield   0 key   Text  "));
  EXPECT_EQ(run("base.h", "--lock=check").exitCode, 1);
  CommandResult rewritten = run("base.h");
  EXPECT_EQ(rewritten.exitCode, 0) << rewritten.output;
  EXPECT_EQ(lock(), written);
}

// A damaged lock file is never ignored and never crashes the tool: the first problem is an
// error at its line and column, and nothing is written.
// The lock file is read before any comparison, so a small header keeps this test fast.
TEST_F(Evolution, MalformedLockFilesAreErrorsAtTheirLine) {
  fs::copy_file(inputPath("evolution/tiny.h"), header());
  const std::string good = readFileOrEmpty(goldenPath("evolution_base.moonpool.lock"));
  ASSERT_FALSE(good.empty());
  struct Case {
    std::string from;  // replaced in the good lock file ("" = replace the whole file)
    std::string to;
    std::string error;  // after "evo.moonpool.lock:"
  };
  const std::vector<Case> cases = {
      {"", "", "1:1: error: malformed lock file: empty lock file: expected 'moonpool-lock 1' "
               "first; delete the file to have it written again"},
      {"", std::string("\x7f" "ELF\x01\x00\xff", 7),
       "1:1: error: malformed lock file: expected 'moonpool-lock 1' before anything else; this "
       "is not a moonpool-annotate lock file"},
      {"moonpool-lock 1", "moonpool-lock 2",
       "4:15: error: malformed lock file: lock file version '2' is not supported; this "
       "moonpool-annotate reads version 1"},
      {"message evo::Put", "mesage evo::Put",
       "14:1: error: malformed lock file: unknown line 'mesage'; expected a type line (message, "
       "service, actor, enum) or a member line (field, method, enumerant, retired)"},
      {"message evo::Put", "message evo::Put extra",
       "14:9: error: malformed lock file: expected 'message <qualified C++ name>'"},
      {"message evo::Put", "message evo:Put",
       "14:9: error: malformed lock file: expected 'message <qualified C++ name>'"},
      {"message evo::Put", "message evo::Color",
       "14:9: error: malformed lock file: type 'evo::Color' appears twice (first on line 6)"},
      {"  field 2 version", "  field 3 version",
       "17:9: error: malformed lock file: ordinal 3 out of order in 'evo::Put': expected 2 "
       "(ordinals are listed in order, from 0, without holes)"},
      {"  field 2 version", "  field two version",
       "17:9: error: malformed lock file: expected an ordinal (0 to 65535), found 'two'"},
      {"  field 2 version", "  field 99999 version",
       "17:9: error: malformed lock file: expected an ordinal (0 to 65535), found '99999'"},
      {"  field 2 version UInt64", "  field 2 value UInt64",
       "17:11: error: malformed lock file: member 'value' appears twice in 'evo::Put' (first on "
       "line 16)"},
      {"  field 2 version UInt64", "  field 2 version",
       "17:11: error: malformed lock file: expected the type of field 'version'"},
      {"  field 2 version UInt64", "  field 2 version UInt64 ;",
       "17:26: error: malformed lock file: unexpected ';' after the field's type"},
      {"  field 2 version UInt64", "  field 2 version List(UInt64",
       "17:19: error: malformed lock file: malformed type 'List(UInt64': expected ')'"},
      {"  field 2 version UInt64", "  field 2 version Uint64",
       "17:19: error: malformed lock file: malformed type 'Uint64': unknown type 'Uint64'"},
      {"  field 2 version UInt64", "  method 2 version UInt64",
       "17:3: error: malformed lock file: 'method' in message 'evo::Put'; its members are "
       "'field' or 'retired'"},
      {"  method 2 size -> UInt64", "  method 2 size UInt64",
       "23:17: error: malformed lock file: expected a parameter 'name:Type' or '->', found "
       "'UInt64'"},
      {"  method 2 size -> UInt64", "  method 2 size ->",
       "23:17: error: malformed lock file: expected '-> <result type>' at the end of method "
       "'size'"},
      {"  method 2 size -> UInt64", "  method 2 size x:Void -> UInt64",
       "23:19: error: malformed lock file: malformed type 'Void': 'Void' is only a method "
       "result"},
      {"  enumerant 0 kRed", "  enumerant 0 kRed red",
       "7:20: error: malformed lock file: unexpected 'red' after the enumerant's name"},
      {"\nenum evo::Color\n", "\n  enumerant 0 x\nenum evo::Color\n",
       "6:3: error: malformed lock file: member line before any type line"},
  };
  for (const Case& c : cases) {
    expectMalformedLock(c.from.empty() ? c.to : replaced(good, c.from, c.to), c.error);
  }
}

TEST_F(Evolution, ALockFileThatCannotBeReadIsAnError) {
  fs::copy_file(inputPath("evolution/tiny.h"), header());
  fs::create_directory(lockPath());
  CommandResult result = runAnnotateOn({header()}, out(), "");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output),
            std::vector<std::string>{dir_ + "/evo.h:1:1: error: cannot read the lock file '" +
                                     lockPath() + "'; fix its permissions, or delete it to "
                                                  "have it written again"})
      << result.output;
}

}  // namespace
}  // namespace moonpool::annotate::testing
