// Goal: libmoonpool_attrs.so makes a normal clang-19 compile know the moonpool attributes:
// annotated code compiles with no warning under -Werror, misplaced or malformed attributes
// are errors, and look-alike attributes are not taken for ours. The tool, built from the
// same attributes.cpp, diagnoses the same way.
// Method: run `clang++-19 -fplugin=<module> -fsyntax-only` on inputs/ headers and check the
// exit code and the exact diagnostic lines.
#include <gtest/gtest.h>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

CommandResult compileWithPlugin(const std::string& header, const std::string& extraFlags) {
  return runCommand(std::string("'") + MP_CLANGXX + "' -std=c++20 -fsyntax-only -fplugin='" +
                    MP_ANNOTATE_PLUGIN + "' -I'" + MP_CORE_INCLUDE + "' " + extraFlags +
                    " -x c++-header '" + inputPath(header) + "'");
}

const std::vector<std::string> kMisplacedErrors = {
    "4:3: error: 'moonpool::service' only applies to classes and structs; write it after the "
    "class-key, as in 'struct [[moonpool::service]] Name'",
    "6:9: error: 'moonpool::message' only applies to classes and structs; write it after the "
    "class-key, as in 'struct [[moonpool::message]] Name'",
    "10:10: error: 'actor' attribute takes no arguments"};

const std::vector<std::string> kOrdinalErrors = {
    "7:5: error: 'ordinal' attribute takes one argument",
    "8:5: error: 'ordinal' attribute takes one argument",
    "9:5: error: 'moonpool::ordinal' takes an integer constant, as in "
    "'[[moonpool::ordinal(3)]]'",
    "10:5: error: ordinal -1 is out of range; Cap'n Proto ordinals go from 0 to 65535",
    "11:5: error: ordinal 70000 is out of range; Cap'n Proto ordinals go from 0 to 65535",
    "12:27: error: 'moonpool::ordinal' given twice on 'twice'; keep one",
    "13:5: error: 'moonpool::ordinal' on method 'method' does nothing: only methods of a "
    "[[moonpool::service]] or [[moonpool::actor]] are numbered; remove it",
    "17:5: error: 'moonpool::ordinal' on field 'field' does nothing: only fields of a "
    "[[moonpool::message]] are numbered; remove it",
    "20:3: error: 'moonpool::ordinal' only applies to message fields, service and actor "
    "methods, and enumerators",
    "21:17: error: 'moonpool::ordinal' only applies to message fields, service and actor "
    "methods, and enumerators",
    "26:5: error: 'moonpool::ordinal' on field 'state' does nothing: only fields of a "
    "[[moonpool::message]] are numbered; remove it"};

const std::string kIdempotentMisplaced =
    "'moonpool::idempotent' only applies to methods of a [[moonpool::service]] or a "
    "[[moonpool::actor]]; mark each method that is safe to run twice instead";
const std::string kIdempotentNotResent =
    " does nothing: only methods of a [[moonpool::service]] or a [[moonpool::actor]] are "
    "resent after a reconnect; remove it";
const std::string kIdempotentArguments =
    "'moonpool::idempotent' takes no arguments; remove them";

// On a class, a message field, a free function, a plain class's method (an actor's public
// method takes it), a service's constructor, with arguments (two forms), on a parameter, on
// an enumerator.
const std::vector<std::string> kIdempotentErrors = {
    "6:10: error: " + kIdempotentMisplaced,
    "9:5: error: " + kIdempotentMisplaced,
    "12:3: error: " + kIdempotentMisplaced,
    "20:5: error: 'moonpool::idempotent' on method 'method' of class 'Plain'" +
        kIdempotentNotResent,
    "25:5: error: 'moonpool::idempotent' on 'Jobs' of service 'Jobs' does nothing: "
    "constructors, destructors and assignment operators are not part of the schema; remove it",
    "27:5: error: " + kIdempotentArguments,
    "28:5: error: " + kIdempotentArguments,
    "31:22: error: " + kIdempotentMisplaced,
    "32:27: error: " + kIdempotentMisplaced};

// On a plain class, a service method, a free function, before [[moonpool::actor]], and with
// an argument.
const std::string kReentrantClass =
    " does nothing: only a [[moonpool::actor]] takes turns; write it after "
    "[[moonpool::actor]], or remove it";
const std::vector<std::string> kReentrantErrors = {
    "6:10: error: 'moonpool::reentrant' on class 'NotAnActor'" + kReentrantClass,
    "11:5: error: 'moonpool::reentrant' on method 'count' of service 'Jobs' does nothing: "
    "only methods of a [[moonpool::actor]] take turns; remove it",
    "14:3: error: 'moonpool::reentrant' only applies to a [[moonpool::actor]] class or to its "
    "methods; move it there",
    "16:9: error: 'moonpool::reentrant' on class 'Backwards'" + kReentrantClass,
    "20:5: error: 'reentrant' attribute takes no arguments"};

std::vector<std::string> withPath(const std::string& header, std::vector<std::string> lines) {
  for (std::string& line : lines) line = inputPath(header) + ":" + line;
  return lines;
}

TEST(AnnotatePlugin, AnnotatedHeaderCompilesWithoutWarnings) {
  for (const std::string& header : {"kv_store.h", "ok_serializable_types.h"}) {
    CommandResult result = compileWithPlugin(header, "-Wall -Wextra -Werror");
    EXPECT_EQ(result.exitCode, 0) << header << ":\n" << result.output;
    EXPECT_EQ(result.output, "") << header;
  }
}

TEST(AnnotatePlugin, WithoutThePluginClangWarns) {
  // Guards the test above: it only means something if plain clang does not know them.
  CommandResult result = runCommand(std::string("'") + MP_CLANGXX +
                                    "' -std=c++20 -fsyntax-only -Werror -I'" +
                                    MP_CORE_INCLUDE + "' -x c++-header '" +
                                    inputPath("kv_store.h") + "'");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find("unknown attribute 'message' ignored"), std::string::npos)
      << result.output;
}

TEST(AnnotatePlugin, MisplacedAttributesAreErrors) {
  CommandResult result = compileWithPlugin("plugin_misplaced.h", "");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_misplaced.h", kMisplacedErrors))
      << result.output;
}

// The one attribute with an argument: it survives the clang-19 scoped-argument bug through
// the unscoped alias (attributes.cpp), and every misuse is an error while parsing.
TEST(AnnotatePlugin, MisusedOrdinalsAreErrors) {
  CommandResult result = compileWithPlugin("plugin_ordinal.h", "");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_ordinal.h", kOrdinalErrors))
      << result.output;
}

TEST(AnnotatePlugin, WellPlacedOrdinalsCompileWithoutWarnings) {
  CommandResult result = compileWithPlugin("ok_ordinal_pins.h", "-Wall -Wextra -Werror");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
}

TEST(AnnotatePlugin, TheToolDiagnosesOrdinalsTheSameWay) {
  std::string out = freshWorkDir("tool_ordinal");
  CommandResult result = runAnnotate({"plugin_ordinal.h"}, out);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_ordinal.h", kOrdinalErrors))
      << result.output;
  EXPECT_TRUE(listFiles(out, "").empty());
}

TEST(AnnotatePlugin, MisusedIdempotentIsAnError) {
  CommandResult result = compileWithPlugin("plugin_idempotent.h", "");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_idempotent.h", kIdempotentErrors))
      << result.output;
}

TEST(AnnotatePlugin, WellPlacedIdempotentCompilesWithoutWarnings) {
  CommandResult result = compileWithPlugin("ok_idempotent_methods.h", "-Wall -Wextra -Werror");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
}

TEST(AnnotatePlugin, TheToolDiagnosesIdempotentTheSameWay) {
  std::string out = freshWorkDir("tool_idempotent");
  CommandResult result = runAnnotate({"plugin_idempotent.h"}, out);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_idempotent.h", kIdempotentErrors))
      << result.output;
  EXPECT_TRUE(listFiles(out, "").empty());
}

TEST(AnnotatePlugin, MisusedReentrantIsAnError) {
  CommandResult result = compileWithPlugin("plugin_reentrant.h", "");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_reentrant.h", kReentrantErrors))
      << result.output;
}

TEST(AnnotatePlugin, WellPlacedReentrantCompilesWithoutWarnings) {
  CommandResult result = compileWithPlugin("ok_reentrant.h", "-Wall -Wextra -Werror");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
}

TEST(AnnotatePlugin, TheToolDiagnosesReentrantTheSameWay) {
  std::string out = freshWorkDir("tool_reentrant");
  CommandResult result = runAnnotate({"plugin_reentrant.h"}, out);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_reentrant.h", kReentrantErrors))
      << result.output;
  EXPECT_TRUE(listFiles(out, "").empty());
}

TEST(AnnotatePlugin, AttributeBeforeClassKeyIsAnError) {
  CommandResult result = compileWithPlugin("plugin_before_class_key.h", "");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_EQ(errorLines(result.output),
            withPath("plugin_before_class_key.h",
                     {"4:29: error: misplaced attributes; expected attributes here"}))
      << result.output;
}

TEST(AnnotatePlugin, UnscopedAndForeignSpellingsAreIgnoredWithAWarning) {
  CommandResult result = compileWithPlugin("plugin_unscoped.h", "");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  std::string path = inputPath("plugin_unscoped.h");
  EXPECT_NE(result.output.find(path + ":5:10: warning: unknown attribute 'service' ignored"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(path + ":7:10: warning: unknown attribute 'message' ignored"),
            std::string::npos)
      << result.output;
}

TEST(AnnotatePlugin, HasCppAttributeKnowsTheAttributes) {
  CommandResult result = compileWithPlugin("plugin_has_attribute.h", "-Werror");
  EXPECT_EQ(result.exitCode, 0) << result.output;
}

TEST(AnnotatePlugin, TheToolDiagnosesMisplacementTheSameWay) {
  std::string out = freshWorkDir("tool_misplaced");
  CommandResult result = runAnnotate({"plugin_misplaced.h"}, out);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_EQ(errorLines(result.output), withPath("plugin_misplaced.h", kMisplacedErrors))
      << result.output;
  EXPECT_TRUE(listFiles(out, "").empty());
}

}  // namespace
}  // namespace moonpool::annotate::testing
