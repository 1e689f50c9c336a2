// Goal: the evolution guard (annotate/evolution.h, README.md "Evolution") reports every
// wire-breaking change of an annotated header as an exact `file:line:col: error:` at the
// declaration, accepts compatible additions and pinned insertions and records them in the
// lock file, honours retired ordinals with schema placeholders, and never crashes on or
// silently ignores a malformed lock file.
// Method: copy inputs/evolution/base.h to a work dir as evo.h and run the tool (which writes
// evo.moonpool.lock next to it), then copy an edited version over evo.h and run again; compare
// the error lines, the lock file and the schema. Lock files are also edited by hand, as a
// user retiring a member would.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

namespace fs = std::filesystem;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class Evolution : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = freshWorkDir("evo"); }

  std::string header() const { return dir_ + "/evo.h"; }
  std::string lockPath() const { return dir_ + "/evo.moonpool.lock"; }
  std::string out() const { return dir_ + "/out"; }
  std::string lock() const { return readFileOrEmpty(lockPath()); }
  std::string schema() const { return readFileOrEmpty(out() + "/evo.capnp"); }

  // Puts inputs/evolution/<version> in place as evo.h and runs the tool on it.
  CommandResult run(const std::string& version, const std::string& flags = "") {
    fs::copy_file(inputPath("evolution/" + version), header(),
                  fs::copy_options::overwrite_existing);
    return runAnnotateOn({header()}, out(), flags);
  }

  // Locks base.h (the first run writes the lock file).
  void lockBase() {
    CommandResult first = run("base.h");
    ASSERT_EQ(first.exitCode, 0) << first.output;
    ASSERT_EQ(first.output, "");
    ASSERT_FALSE(lock().empty());
  }

  void editLock(const std::string& from, const std::string& to) {
    writeFile(lockPath(), replaced(lock(), from, to));
  }

  // Locks base.h, runs `version`: exactly `expected` error lines (each relative to the work
  // dir, "evo.h:17:15: error: ..."), exit code 1, and neither the lock nor outputs touched.
  void expectBreaks(const std::string& version, const std::vector<std::string>& expected) {
    lockBase();
    std::string lockBefore = lock();
    std::string schemaBefore = schema();
    CommandResult result = run(version);
    EXPECT_EQ(result.exitCode, 1) << result.output;
    std::vector<std::string> want;
    for (const std::string& line : expected) want.push_back(dir_ + "/" + line);
    EXPECT_EQ(errorLines(result.output), want) << result.output;
    EXPECT_EQ(lock(), lockBefore) << "the lock file changed despite errors";
    EXPECT_EQ(schema(), schemaBefore) << "the schema changed despite errors";
  }

  std::string dir_;
};

const std::string kBreaks = ", which breaks the wire format; ";

std::string moved(const std::string& where, const std::string& field, int from, int to) {
  return where + ": error: field '" + field + "' of message 'Put' moved from @" +
         std::to_string(from) + " to @" + std::to_string(to) + kBreaks + "pin it back with " +
         "'[[moonpool::ordinal(" + std::to_string(from) + ")]]', or declare new members after " +
         "the last one";
}

std::string retireHint(int ordinal, const std::string& word, int line) {
  return "retire @" + std::to_string(ordinal) + " (change '" + word + "' to 'retired' on line " +
         std::to_string(line) + " of evo.moonpool.lock, or run with --lock=update)";
}

TEST_F(Evolution, ReorderedFieldsAreErrors) {
  expectBreaks("moved.h", {moved("evo.h:17:15", "value", 1, 2),
                           moved("evo.h:16:12", "version", 2, 1)});
}

TEST_F(Evolution, AnInsertionInTheMiddleIsAnError) {
  expectBreaks("inserted.h", {moved("evo.h:17:15", "value", 1, 2),
                              moved("evo.h:18:12", "version", 2, 3),
                              moved("evo.h:19:9", "color", 3, 4)});
}

TEST_F(Evolution, AFieldTypeChangeIsAnError) {
  expectBreaks("field_type.h",
               {"evo.h:17:11: error: the type of field 'version' of message 'Put' changed from "
                "UInt64 to Int64" + kBreaks + "keep the old type, and add a new field after "
                "the last one"});
}

TEST_F(Evolution, AParameterTypeChangeIsAnError) {
  expectBreaks("param_type.h",
               {"evo.h:25:57: error: the type of parameter 'sync' of method 'put' of service "
                "'Store' changed from Bool to Int32" + kBreaks + "keep it, and add a new "
                "parameter after the last one"});
}

TEST_F(Evolution, AResultTypeChangeIsAnError) {
  expectBreaks("result_type.h",
               {"evo.h:26:36: error: the result type of method 'size' of service 'Store' "
                "changed from UInt64 to UInt32" + kBreaks + "keep it, and add a new method "
                "after the last one"});
}

TEST_F(Evolution, ARenamedParameterIsAnError) {
  expectBreaks("param_renamed.h",
               {"evo.h:25:54: error: parameter 'durable' of method 'put' of service 'Store' "
                "takes position 2 from 'sync'" + kBreaks + "keep the old parameters in order, "
                "and add new ones after them"});
}

TEST_F(Evolution, ARemovedParameterIsAnError) {
  expectBreaks("param_removed.h",
               {"evo.h:25:32: error: parameter 'sync' of method 'put' of service 'Store' was "
                "removed" + kBreaks + "keep it (it may go unused), or add a new method after "
                "the last one"});
}

TEST_F(Evolution, ARemovedFieldIsAnError) {
  expectBreaks("field_removed.h",
               {"evo.h:14:30: error: field 'color' (@3) of message 'Put' was removed" + kBreaks +
                "to keep its ordinal from being reused, " + retireHint(3, "field", 18)});
}

TEST_F(Evolution, ARemovedMethodIsAnError) {
  expectBreaks("method_removed.h",
               {"evo.h:21:29: error: method 'size' (@2) of service 'Store' was removed" +
                kBreaks + "to keep its ordinal from being reused, " +
                retireHint(2, "method", 23)});
}

TEST_F(Evolution, ARemovedEnumeratorIsAnError) {
  expectBreaks("enumerator_removed.h",
               {"evo.h:12:12: error: enumerator 'kGreen' (@1) of enum 'evo::Color' was removed" +
                    kBreaks + "to keep its ordinal from being reused, " +
                    retireHint(1, "enumerant", 8),
                "evo.h:12:26: error: enumerator 'kBlue' of enum 'evo::Color' moved from @2 to "
                "@1" + kBreaks + "pin it back with '[[moonpool::ordinal(2)]]', or declare new "
                "members after the last one"});
}

TEST_F(Evolution, ARenamedFieldIsAnError) {
  expectBreaks("renamed.h",
               {"evo.h:16:15: error: field 'payload' of message 'Put' reuses @1 of the removed "
                "field 'value'" + kBreaks + "a rename is a removal plus an addition: keep the "
                "old name, or " + retireHint(1, "field", 16) + " and declare the new member "
                "after the last one"});
}

TEST_F(Evolution, ARemovedActorIsAnErrorAtItsLockLine) {
  expectBreaks("actor_removed.h",
               {"evo.moonpool.lock:11:1: error: actor 'evo::Counter' is in evo.moonpool.lock "
                "but no longer declared" + kBreaks + "restore it, or run with --lock=update "
                "to drop it"});
}

TEST_F(Evolution, AChangedKindIsAnError) {
  expectBreaks("kind_changed.h",
               {"evo.h:29:30: error: message 'Counter' is locked as an actor (line 11 of "
                "evo.moonpool.lock)" + kBreaks + "give the new type a new name"});
}

TEST_F(Evolution, APinThatLeavesAHoleIsAnError) {
  expectBreaks("hole.h",
               {"evo.h:19:5: error: field 'urgent' of message 'Put' is pinned to @6, which "
                "leaves @4 unused; Cap'n Proto ordinals have no holes: pin it to @4"});
}

TEST_F(Evolution, AdditionsAfterTheLastOrdinalAreAcceptedAndLocked) {
  lockBase();
  CommandResult result = run("added.h");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
  std::string grown = lock();
  for (const std::string& line :
       {"  enumerant 3 kViolet\n", "  field 4 owner Optional(Text)\n", "\nmessage evo::Stats\n",
        "  method 0 get key:Text fresh:Bool -> Optional(Text)\n",
        "  method 3 clear only:Enum(Color) -> Void\n"}) {
    EXPECT_TRUE(contains(grown, line)) << line << "\nin:\n" << grown;
  }
  // Only additions at the end: the grown lock is the one a fresh start writes.
  std::string fresh = freshWorkDir("fresh");
  fs::copy_file(inputPath("evolution/added.h"), fresh + "/evo.h");
  ASSERT_EQ(runAnnotateOn({fresh + "/evo.h"}, fresh + "/out", "").exitCode, 0);
  EXPECT_EQ(grown, readFileOrEmpty(fresh + "/evo.moonpool.lock"));
}

TEST_F(Evolution, PinnedInsertionsKeepTheOldOrdinals) {
  lockBase();
  CommandResult result = run("pinned.h");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  for (const std::string& line :
       {"  kRed @0;\n  kGreen @1;\n  kBlue @2;\n  kAmber @3;\n",
        "  key @0 :Text;\n  value @1 :Text;\n  version @2 :UInt64;\n  color @3 :Color;\n"
        "  urgent @4 :Bool;\n",
        "  size @2 () -> (result :UInt64);\n  ping @3 () -> ();\n"}) {
    EXPECT_TRUE(contains(schema(), line)) << line << "\nin:\n" << schema();
  }
  EXPECT_TRUE(contains(lock(), "  field 3 color Enum(Color)\n  field 4 urgent Bool\n"));
  CommandResult capnp = runCommand(std::string("'") + MP_CAPNP + "' compile -o- --src-prefix='" +
                                   out() + "' '" + out() + "/evo.capnp' > /dev/null");
  EXPECT_EQ(capnp.exitCode, 0) << capnp.output;
}

// Retiring by hand: the lock entry's first word becomes 'retired'. Unpinned members then skip
// the ordinal, and the schema keeps a layout-equivalent placeholder there.
TEST_F(Evolution, RetiredOrdinalsKeepPlaceholdersAndAreSkipped) {
  lockBase();
  editLock("  field 1 value Text\n", "  retired 1 value Text\n");
  editLock("  method 2 size -> UInt64\n", "  retired 2 size -> UInt64\n");
  editLock("  enumerant 1 kGreen\n", "  retired 1 kGreen\n");
  CommandResult result = run("retire_all.h");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
  for (const std::string& line :
       {"  kRed @0;\n  retired1KGreen @1;  # retired\n  kBlue @2;\n",
        "  key @0 :Text;\n  retired1Value @1 :Text;  # retired\n  version @2 :UInt64;\n"
        "  color @3 :Color;\n",
        "  retired2Size @2 () -> ();  # retired\n"}) {
    EXPECT_TRUE(contains(schema(), line)) << line << "\nin:\n" << schema();
  }
  EXPECT_TRUE(contains(lock(), "  retired 1 value Text\n  field 2 version UInt64\n"));
}

// The schema with placeholders compiles with stock capnp, and the generated C++ (whose enum
// conversion lists retired enumerants, -Wswitch) compiles warning-free.
TEST_F(Evolution, CodeWithRetiredOrdinalsCompiles) {
  lockBase();
  editLock("  field 1 value Text\n", "  retired 1 value Text\n");
  editLock("  method 2 size -> UInt64\n", "  retired 2 size -> UInt64\n");
  editLock("  enumerant 1 kGreen\n", "  retired 1 kGreen\n");
  ASSERT_EQ(run("retire_all.h").exitCode, 0);
  CommandResult capnp = runCommand(std::string("'") + MP_CAPNP + "' compile -oc++:'" + out() +
                                   "' --src-prefix='" + out() + "' '" + out() + "/evo.capnp'");
  ASSERT_EQ(capnp.exitCode, 0) << capnp.output;
  CommandResult cxx = runCommand(
      std::string("'") + MP_CLANGXX + "' -std=c++20 -fsyntax-only -Wall -Wextra -Werror -include '" +
      MP_KJ_SHIM + "' -fplugin='" + MP_ANNOTATE_PLUGIN + "' -I'" + out() + "' -I'" + dir_ +
      "' " + MP_INCLUDE_FLAGS + " '" + out() +
      "/evo.moonpool.cpp'");
  EXPECT_EQ(cxx.exitCode, 0) << cxx.output;
}

TEST_F(Evolution, APinOnARetiredOrdinalIsAnError) {
  lockBase();
  editLock("  field 1 value Text\n", "  retired 1 value Text\n");
  CommandResult result = run("pinned_retired.h");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output),
            std::vector<std::string>{dir_ +
                                     "/evo.h:16:5: error: field 'urgent' of message 'Put' is "
                                     "pinned to @1, which is retired (it was 'value'); retired "
                                     "ordinals are never reused: pin it to @4"})
      << result.output;
}

TEST_F(Evolution, AMemberNamedLikeAPlaceholderIsAnError) {
  lockBase();
  editLock("  field 1 value Text\n", "  retired 1 value Text\n");
  CommandResult result = run("clash.h");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output),
            std::vector<std::string>{dir_ +
                                     "/evo.h:18:8: error: field 'retired1_value' of message "
                                     "'Put' has the schema name 'retired1Value' of the "
                                     "placeholder kept for retired @1; rename it"})
      << result.output;
}

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
  if (update) std::ofstream(goldenPath("evolution_base.moonpool.lock"), std::ios::binary) << written;
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
    writeFile(lockPath(), c.from.empty() ? c.to : replaced(good, c.from, c.to));
    std::string damaged = lock();
    std::string fresh = freshWorkDir("malformed_out");
    CommandResult result = runAnnotateOn({header()}, fresh, "");
    EXPECT_EQ(result.exitCode, 1) << c.error;
    EXPECT_EQ(errorLines(result.output),
              std::vector<std::string>{dir_ + "/evo.moonpool.lock:" + c.error})
        << result.output;
    EXPECT_EQ(lock(), damaged) << "a damaged lock file was rewritten";
    EXPECT_TRUE(listFiles(fresh, "").empty()) << "outputs written despite a bad lock file";
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
