// Goal: every validation rule (annotate/rules/, README.md "Rules") reports exactly the
// expected compiler-style `file:line:col: error: ...` lines, fails the run, writes nothing,
// and does not fire on the nearby valid code.
// Method: run the built tool on inputs/bad_<rule>.h and compare every error line exactly;
// run it on inputs/ok_<rule>.h and expect success with no output on the console, and a
// schema the stock capnp compiler accepts.
#include <gtest/gtest.h>

#include "run_tool.h"

namespace moonpool::annotate::testing {
namespace {

// Runs the tool on `header` and expects exactly `expected` error lines; each expected
// line omits the "<inputs dir>/<header>:" prefix, which is added here.
void expectErrors(const std::string& header, const std::vector<std::string>& expected) {
  std::string out = freshWorkDir("diag_" + header);
  CommandResult result = runAnnotate({header}, out);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  std::vector<std::string> want;
  for (const std::string& line : expected) want.push_back(inputPath(header) + ":" + line);
  EXPECT_EQ(errorLines(result.output), want) << result.output;
  EXPECT_TRUE(listFiles(out, "").empty()) << "output written despite errors";
}

// Must-not-fire: the tool succeeds silently and capnp accepts the schema.
void expectClean(const std::string& header) {
  std::string out = freshWorkDir("clean_" + header);
  CommandResult result = runAnnotate({header}, out);
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output, "");
  std::string schema = header.substr(0, header.rfind('.')) + ".capnp";
  CommandResult capnp = runCommand(std::string("'") + MP_CAPNP + "' compile -o- --src-prefix='" +
                                   out + "' '" + out + "/" + schema + "' > /dev/null");
  EXPECT_EQ(capnp.exitCode, 0) << capnp.output;
}

TEST(AnnotateRules, NoTemplates) {
  expectErrors("bad_no_templates.h",
               {"7:30: error: message 'Box' is a template; annotate a non-template class "
                "instead",
                "15:21: error: method 'convert' of service 'Converter' is a template; declare "
                "one non-template method per type"});
  expectClean("ok_no_templates.h");
}

TEST(AnnotateRules, RecordShape) {
  expectErrors("bad_record_shape.h",
               {"9:40: error: message 'Derived' has a base class, which is not supported; "
                "remove the base class",
                "18:11: error: field 'hidden' of message 'Secretive' is not public; make every "
                "field public"});
  expectClean("ok_record_shape.h");
}

TEST(AnnotateRules, VirtualDestructor) {
  expectErrors("bad_virtual_destructor.h",
               {"5:29: error: service 'Pinger' has no public virtual destructor; add 'virtual "
                "~Pinger() = default;'",
                "10:29: error: service 'HiddenDestructor' has no public virtual destructor; "
                "add 'virtual ~HiddenDestructor() = default;'"});
  expectClean("ok_virtual_destructor.h");
}

TEST(AnnotateRules, PureVirtualMethods) {
  const std::string fix = " must be public and pure virtual; declare it 'virtual ... = 0' in "
                          "the public section";
  expectErrors("bad_pure_virtual_methods.h",
               {"8:32: error: method 'withBody' of service 'Clock'" + fix,
                "9:24: error: method 'nonVirtual' of service 'Clock'" + fix,
                "10:31: error: method 'staticMethod' of service 'Clock'" + fix,
                "13:32: error: method 'hidden' of service 'Clock'" + fix});
  expectClean("ok_pure_virtual_methods.h");
}

TEST(AnnotateRules, TaskReturn) {
  expectErrors("bad_task_return.h",
               {"9:23: error: method 'greet' of service 'Greeter' returns 'std::string'; "
                "return 'moonpool::Task<T>' instead",
                "14:8: error: method 'move' of actor 'Player' returns 'void'; return "
                "'moonpool::Task<T>' instead"});
  expectClean("ok_task_return.h");
}

TEST(AnnotateRules, NoOverloads) {
  expectErrors("bad_no_overloads.h",
               {"11:39: error: method 'find' of service 'Lookup' is overloaded; give each "
                "overload its own name"});
  expectClean("ok_no_overloads.h");
}

TEST(AnnotateRules, SerializableTypes) {
  const std::string std = "is not a supported standard library type; use std::string, "
                          "std::vector, std::optional, std::map or std::unordered_map";
  expectErrors(
      "bad_serializable_types.h",
      {"14:12: error: type 'int32_t *' of field 'pointer' in message 'Record' is a pointer; "
       "use a value type",
       "15:34: error: type 'std::set<int>' of field 'nested' in message 'Record' " + std,
       "16:15: error: type 'NotAMessage' of field 'plain' in message 'Record' is not a "
       "message; annotate its definition [[moonpool::message]]",
       "17:15: error: type 'long double' of field 'precise' in message 'Record' has no Cap'n "
       "Proto equivalent; use an integer type, float or double",
       "23:55: error: type 'std::set<int32_t>' of parameter 'ids' in method 'save' of service "
       "'Store' " + std,
       "24:50: error: type 'std::string &' of parameter 'out' in method 'fill' of service "
       "'Store' is a non-const reference; pass it by value or by const reference",
       "25:36: error: type 'char32_t' of the result of method 'letter' of service 'Store' is "
       "a wide character type; use an integer type"});
  expectClean("ok_serializable_types.h");
}

TEST(AnnotateRules, MemberNames) {
  expectErrors(
      "bad_member_names.h",
      {"10:11: error: field 'userId' of message 'Profile' and 'user_id' both become 'userId' "
       "in the schema; rename one of them",
       "17:32: error: method 'import' of service 'Registry' is named like the Cap'n Proto "
       "keyword 'import'; rename it",
       "18:43: error: parameter 1 of method 'add' in service 'Registry' has no name; name it "
       "(names are part of the schema)",
       "19:32: error: method 'operator()' of service 'Registry' has no schema equivalent; "
       "rename it to a plain identifier or remove it",
       "6:19: error: enumerator 'VOID' of enum 'Mode' is named like the Cap'n Proto keyword "
       "'void'; rename it"});
  expectClean("ok_member_names.h");
}

TEST(AnnotateRules, TypeNames) {
  expectErrors("bad_type_names.h",
               {"14:30: error: message 'a::b::Put' has the same schema name 'ABPut' as message "
                "'a_b::Put'; rename one of them",
                "17:30: error: message 'a::b::OptionalText' has the same schema name "
                "'OptionalText' as the generated helper struct for "
                "'std::optional<std::string>'; rename one of them"});
  expectClean("ok_type_names.h");
}

TEST(AnnotateRules, OrdinalPins) {
  const std::string range = " is out of range; Cap'n Proto ordinals go from 0 to 65535";
  expectErrors(
      "bad_ordinal_pins.h",
      {"10:18: error: the ordinal of field 'text' of message 'Record' is not an integer "
       "constant; write it as in '[[moonpool::ordinal(3)]]'",
       "11:18: error: ordinal 70000 of field 'big' of message 'Record'" + range,
       "12:18: error: ordinal -2 of field 'negative' of message 'Record'" + range,
       "13:52: error: field 'twice' of message 'Record' has more than one ordinal; keep one",
       "15:18: error: field 'b' of message 'Record' is pinned to @3, like field 'a'; give each "
       "member its own ordinal",
       "24:18: error: the ordinal on 'hidden' of actor 'Worker' does nothing: that member is "
       "not part of the schema; remove it",
       "7:91: error: enumerator 'kB' of enum 'Mode' is pinned to @1, like enumerator 'kA'; give "
       "each member its own ordinal"});
  expectClean("ok_ordinal_pins.h");
}

// The must-not-fire input also shows what pins do: pinned members take their ordinal, the
// others fill the free ones in declaration order.
TEST(AnnotateRules, OrdinalPinsNumberTheSchema) {
  std::string out = freshWorkDir("pins_schema");
  ASSERT_EQ(runAnnotate({"ok_ordinal_pins.h"}, out).exitCode, 0);
  std::string schema = readFileOrEmpty(out + "/ok_ordinal_pins.capnp");
  for (const std::string& line :
       {"  kB @0;\n  kA @1;\n  kC @2;\n",
        "  second @0 :Int32;\n  third @1 :Int32;\n  first @2 :Int32;\n  mode @3 :Mode;\n",
        "  stop @0 () -> ();\n  start @1 (record :Record) -> ();\n",
        "  run @0 () -> ();\n  pause @1 () -> ();\n"}) {
    EXPECT_NE(schema.find(line), std::string::npos) << line << "\nin:\n" << schema;
  }
}

// The portable spelling, which the attribute cannot check while parsing (the attribute
// spelling: plugin_test.cpp). Each misuse: on a class, a message field, a free function, a
// plain class's method (an actor's public method takes it), a service's destructor, with
// arguments, on a parameter, on an enumerator.
TEST(AnnotateRules, IdempotentMethods) {
  const std::string misplaced = "'moonpool::idempotent' only applies to methods of a "
                                "[[moonpool::service]] or a [[moonpool::actor]]; mark each "
                                "method that is safe to run twice instead";
  const std::string notResent = " does nothing: only methods of a [[moonpool::service]] or a "
                                "[[moonpool::actor]] are resent after a reconnect; remove it";
  expectErrors(
      "bad_idempotent_methods.h",
      {"7:23: error: " + misplaced, "10:18: error: " + misplaced, "13:16: error: " + misplaced,
       "21:18: error: 'moonpool::idempotent' on method 'method' of class 'Plain'" + notResent,
       "26:18: error: 'moonpool::idempotent' on '~Jobs' of service 'Jobs' does nothing: "
       "constructors, destructors and assignment operators are not part of the schema; remove "
       "it",
       "27:18: error: 'moonpool::idempotent' takes no arguments; remove them",
       "28:51: error: " + misplaced, "31:40: error: " + misplaced});
  expectClean("ok_idempotent_methods.h");
}

// Idempotence is not on the wire: the header without its marks gives byte-identical schema
// and lock file; the marks only change the delivery mode the generated remote asks for.
TEST(AnnotateRules, IdempotentMethodsChangeOnlyTheDeliveryMode) {
  const std::string header = "ok_idempotent_methods.h";
  std::string marked = freshWorkDir("idempotent_marked");
  ASSERT_EQ(runAnnotate({header}, marked).exitCode, 0);
  // The same header (same file name: IDs derive from it) without any mark.
  std::string text = readFileOrEmpty(inputPath(header));
  for (const std::string& mark :
       {"[[moonpool::idempotent]] ", "__attribute__((annotate(\"moonpool::idempotent\"))) "}) {
    for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark)) {
      text.erase(at, mark.size());
    }
  }
  ASSERT_EQ(text.find("moonpool::idempotent"), std::string::npos) << text;
  std::string plain = freshWorkDir("idempotent_plain");
  writeFile(plain + "/" + header, text);
  ASSERT_EQ(runAnnotateOn({plain + "/" + header}, plain, "").exitCode, 0);
  for (const std::string& name : {"ok_idempotent_methods.capnp",
                                  "ok_idempotent_methods.moonpool.lock"}) {
    EXPECT_FALSE(readFileOrEmpty(marked + "/" + name).empty()) << name;
    EXPECT_EQ(readFileOrEmpty(marked + "/" + name), readFileOrEmpty(plain + "/" + name)) << name;
  }
  std::string glue = readFileOrEmpty(marked + "/ok_idempotent_methods.moonpool.cpp");
  for (const std::string& method : {"lookup", "size", "touch", "insert"}) {
    std::string delivery = method == "insert" ? "kAtMostOnce" : "kAtLeastOnce";
    std::string call = "::moonpool::rpc::Call call(peer_, service_, \"" + method +
                       "\",\n                           ::moonpool::rpc::Delivery::" + delivery;
    EXPECT_NE(glue.find(call), std::string::npos) << call << "\nin:\n" << glue;
  }
  EXPECT_EQ(readFileOrEmpty(plain + "/ok_idempotent_methods.moonpool.cpp").find("kAtLeastOnce"),
            std::string::npos);
}

}  // namespace
}  // namespace moonpool::annotate::testing
