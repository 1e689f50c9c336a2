// Goal: hostile inputs (issue 15) either work or get a clear `file:line:col: error:` before
// anything is written: declarations the generated C++ could not compile against (rule
// cpp-glue, service methods named like the generated members among them), compiler-driver
// errors and non-C++ inputs (exit 1, nothing written), and the cases that must work: a
// service without methods and an empty enum compile under -Werror,
// the generated clients keep the interface's default arguments, same-named messages and
// enums in two namespaces get distinct schema names, and a service template gets one error.
// Method: run the built tool on inputs/hostile/*.h; compare error lines exactly and check the
// output directory stays empty; for the must-work header, compile the schema with stock
// capnp and the generated glue plus a caller with clang++-19 -Wall -Wextra -Werror.
#include <gtest/gtest.h>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

using test_support::contains;
using test_support::quote;

std::string tool() { return quote(MP_ANNOTATE_TOOL); }

TEST(AnnotateHostile, GlueTheCompilerWouldRejectIsDiagnosedAtTheDeclaration) {
  const std::string header = "hostile/bad_cpp_glue.h";
  const std::string out = freshWorkDir("hostile_cpp_glue");
  CommandResult result = runAnnotate({header}, out);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  std::vector<std::string> want;
  for (const char* line : {
           "9:3: error: message 'Built' declares a constructor, so it is not an aggregate the "
           "generated conversions can build; remove the constructor (default member "
           "initializers are fine)",
           "14:17: error: field 'value' of message 'Frozen' is const, but the generated "
           "conversions assign every field; remove 'const'",
           "15:12: error: field 'flags' of message 'Frozen' is a bit-field, which the generated "
           "conversions cannot bind; declare a plain integer field",
           "18:30: error: message 'Reader' is named like the class Cap'n Proto generates inside "
           "every struct and interface ('Reader'); rename it",
           "25:35: error: method 'ping' of service 'Echo' is ref-qualified, but the generated "
           "code calls it on an lvalue and overrides it unqualified; remove the '&' or '&&'",
           "28:30: error: message 'EchoServer' is named like the generated class 'EchoServer' "
           "of service 'Echo'; rename it",
           "35:34: error: method 'zero' of actor 'Counter' is static, but the generated server "
           "calls methods on the actor's instance; make it a member function",
           "38:30: error: type 'Caf\xC3\xA9' is not an ASCII identifier, and Cap'n Proto names "
           "are ASCII; rename it"}) {
    want.push_back(inputPath(header) + ":" + line);
  }
  EXPECT_EQ(errorLines(result.output), want) << result.output;
  EXPECT_TRUE(listFiles(out, "").empty()) << "output written despite errors";
}

TEST(AnnotateHostile, MethodsNamedLikeGeneratedMembersAreDiagnosedAtTheMethod) {
  const std::string header = "hostile/bad_generated_members.h";
  const std::string out = freshWorkDir("hostile_generated_members");
  CommandResult result = runAnnotate({header}, out);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  std::vector<std::string> want;
  for (const char* line : {
           "11:35: error: method 'withOptions' of service 'Tuner' clashes with 'withOptions' "
           "of the generated remote (a copy with other call options); rename it",
           "12:35: error: method 'kServiceName' of service 'Tuner' clashes with the constant "
           "'kServiceName' of the generated server and remote; rename it",
           "14:35: error: method 'TuneSignature' of service 'Tuner' clashes with the alias "
           "'TuneSignature' the generated client and remote declare for method 'tune'; "
           "rename it"}) {
    want.push_back(inputPath(header) + ":" + line);
  }
  EXPECT_EQ(errorLines(result.output), want) << result.output;
  EXPECT_TRUE(listFiles(out, "").empty()) << "output written despite errors";
}

TEST(AnnotateHostile, ATemplateServiceGetsOneErrorAtTheClass) {
  const std::string header = "hostile/bad_template_service.h";
  const std::string out = freshWorkDir("hostile_template");
  CommandResult result = runAnnotate({header}, out);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_EQ(errorLines(result.output),
            std::vector<std::string>{inputPath(header) +
                                     ":9:29: error: service 'Store' is a template; annotate a "
                                     "non-template class instead"})
      << result.output;
  EXPECT_TRUE(listFiles(out, "").empty()) << "output written despite errors";
}

TEST(AnnotateHostile, LookAlikesOfTheGlueProblemsAreFine) {
  const std::string out = freshWorkDir("hostile_ok_cpp_glue");
  CommandResult result = runAnnotate({"hostile/ok_cpp_glue.h"}, out);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
}

TEST(AnnotateHostile, DriverErrorsFailAndWriteNothing) {
  const std::string out = freshWorkDir("hostile_driver");
  const std::string header = quote(inputPath("hostile/ok_cpp_glue.h"));
  CommandResult flag = runCommand(tool() + " --output-dir " + quote(out) + " --lock=off " +
                                  header + " -- -I" + quote(MP_CORE_INCLUDE) + " -fno-such-flag");
  EXPECT_EQ(flag.exitCode, 1) << flag.output;
  EXPECT_TRUE(contains(flag.output, "error: unknown argument: '-fno-such-flag'")) << flag.output;
  EXPECT_TRUE(listFiles(out, "").empty()) << "output written despite a driver error";

  const std::string cFile = out + "/input.c";
  writeFile(cFile, "int x;\n");
  CommandResult c = runCommand(tool() + " --output-dir " + quote(out + "/c") + " " +
                               quote(cFile) + " --");
  EXPECT_EQ(c.exitCode, 1) << c.output;
  EXPECT_TRUE(contains(c.output, "moonpool-annotate: error: '" + cFile +
                                     "' is not a C++ header or source"))
      << c.output;
  EXPECT_TRUE(listFiles(out, "").size() == 1) << "only the input itself is there";
}

// Generates `stem`.h (under inputs/hostile), compiles its schema with stock capnp and the
// glue plus `extraSources` with clang++-19 -Wall -Wextra -Werror; returns the schema.
std::string generateAndCompile(const std::string& stem, std::vector<std::string> extraSources) {
  const std::string out = freshWorkDir("hostile_compiles_" + stem);
  CommandResult result = runAnnotate({"hostile/" + stem + ".h"}, out);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  CommandResult capnp = runCommand(quote(MP_CAPNP) + " compile -oc++:" + quote(out) +
                                   " --src-prefix=" + quote(out) + " " +
                                   quote(out + "/" + stem + ".capnp"));
  EXPECT_EQ(capnp.exitCode, 0) << capnp.output;
  const std::string compile = quote(MP_CLANGXX) +
                              " -std=c++20 -fsyntax-only -Wall -Wextra -Werror -fplugin=" +
                              quote(MP_ANNOTATE_PLUGIN) + " -include " + quote(MP_KJ_SHIM) +
                              " " + MP_INCLUDE_FLAGS + " -I" +
                              quote(std::string(MP_ANNOTATE_INPUTS) + "/hostile") + " -I" +
                              quote(out) + " ";
  extraSources.push_back(out + "/" + stem + ".moonpool.cpp");
  extraSources.push_back(out + "/" + stem + ".capnp.c++");
  for (const std::string& source : extraSources) {
    CommandResult compiled = runCommand(compile + quote(source));
    EXPECT_EQ(compiled.exitCode, 0) << source << "\n" << compiled.output;
  }
  return readFileOrEmpty(out + "/" + stem + ".capnp");
}

TEST(AnnotateHostile, EmptyServicesEmptyEnumsAndDefaultArgumentsCompileUnderWerror) {
  generateAndCompile("ok_glue_compiles",
                     {std::string(MP_ANNOTATE_INPUTS) + "/hostile/calls_with_defaults.cpp"});
}

TEST(AnnotateHostile, SameNamedTypesInTwoNamespacesWork) {
  const std::string schema = generateAndCompile("ok_twins", {});
  for (const char* declaration : {"struct TwinsAMsg ", "struct TwinsBMsg ", "enum TwinsAKind ",
                                  "enum TwinsBKind ", "interface Pair ",
                                  "struct OptionalTwinsBMsg "}) {
    EXPECT_TRUE(contains(schema, declaration)) << declaration << "\n" << schema;
  }
}

}  // namespace
}  // namespace moonpool::annotate::testing
