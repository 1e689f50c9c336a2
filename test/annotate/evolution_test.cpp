// Goal: the evolution guard (annotate/evolution.h, README.md "Evolution") reports every
// wire-breaking change of an annotated header as an exact `file:line:col: error:` at the
// declaration, accepts compatible additions and pinned insertions and records them in the
// lock file, and honours retired ordinals with schema placeholders. The lock modes and
// malformed lock files are in evolution_lock_test.cpp.
// Method: copy inputs/evolution/base.h to a work dir as evo.h and run the tool (which writes
// evo.moonpool.lock next to it), then copy an edited version over evo.h and run again; compare
// the error lines, the lock file and the schema (evolution_testing.h). Lock files are also
// edited by hand, as a user retiring a member would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "evolution_testing.h"
#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

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
      std::string("'") + MP_CLANGXX +
      "' -std=c++20 -fsyntax-only -Wall -Wextra -Werror -include '" +
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

}  // namespace
}  // namespace moonpool::annotate::testing
