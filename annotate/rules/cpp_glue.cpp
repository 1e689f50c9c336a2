// Rule cpp-glue (see README.md "Rules"): the schema could hold these, but the generated C++
// (conversions, servers, clients, remotes) would not compile, and the C++ compiler's error
// would point into generated code. Each is reported at the declaration instead:
// - a message that is not a plain aggregate (a user-declared constructor), or a field the
//   conversions cannot assign or bind (const, bit-field);
// - a static actor method (the server calls methods on an instance), a ref-qualified method;
// - a service method named like a member the generated classes declare beside the methods
//   (the remote's withOptions, kServiceName, the alias <Method>Signature of another method);
// - a type named like a class Cap'n Proto generates inside every struct and interface
//   (Reader, Builder, Pipeline, Server, Client) or like a generated glue class of another
//   type of the header (EchoServer beside service Echo);
// - a name that is not ASCII (Cap'n Proto identifiers are ASCII letters and digits).
#include "cpp_glue.h"

#include <array>
#include <map>
#include <string_view>

#include "../cpp_conversions.h"

namespace moonpool::annotate {
namespace {

constexpr std::array<std::string_view, 5> kCapnpNestedNames = {"Reader", "Builder", "Pipeline",
                                                                "Server", "Client"};

bool isAscii(const std::string& name) {
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void checkAscii(const std::string& what, const std::string& name, clang::SourceLocation loc,
                Reporter& reporter) {
  if (isAscii(name)) return;
  reporter.error(loc, what + " '" + name + "' is not an ASCII identifier, and Cap'n Proto "
                      "names are ASCII; rename it");
}

void checkMessageShape(const Record& record, Reporter& reporter) {
  if (record.firstConstructorLoc) {
    reporter.error(*record.firstConstructorLoc,
                   describeRecord(record) + " declares a constructor, so it is not an "
                   "aggregate the generated conversions can build; remove the constructor "
                   "(default member initializers are fine)");
  }
  for (const Field& field : record.fields) {
    const std::string subject = "field '" + field.name + "' of " + describeRecord(record);
    if (field.isConst) {
      reporter.error(field.loc, subject + " is const, but the generated conversions assign "
                                          "every field; remove 'const'");
    }
    if (field.isBitField) {
      reporter.error(field.loc, subject + " is a bit-field, which the generated conversions "
                                          "cannot bind; declare a plain integer field");
    }
  }
}

void checkMethodShape(const Record& record, const Method& method, Reporter& reporter) {
  const std::string subject = "method '" + method.name + "' of " + describeRecord(record);
  if (record.kind == RecordKind::kActor && method.isStatic) {
    reporter.error(method.loc, subject + " is static, but the generated server calls methods "
                                         "on the actor's instance; make it a member function");
  }
  if (method.isRefQualified) {
    reporter.error(method.loc, subject + " is ref-qualified, but the generated code calls it "
                                         "on an lvalue and overrides it unqualified; remove "
                                         "the '&' or '&&'");
  }
  checkAscii("method", method.name, method.loc, reporter);
  for (const Field& param : method.params) checkAscii("parameter", param.name, param.loc, reporter);
}

// A service method must not be named like what cpp_emitter.cpp declares beside the methods
// in the service's generated server, client and remote: the overriding method and the
// member would be one name declared twice.
void checkGeneratedMembers(const Record& record, Reporter& reporter) {
  if (record.kind != RecordKind::kService) return;
  std::map<std::string, std::string> aliases;  // "<Method>Signature" -> the method
  for (const Method& method : record.methods) {
    aliases.emplace(capnpAccessorSuffix(method.name) + "Signature", method.name);
  }
  for (const Method& method : record.methods) {
    const std::string subject = "method '" + method.name + "' of " + describeRecord(record);
    if (method.name == "withOptions") {
      reporter.error(method.loc, subject + " clashes with 'withOptions' of the generated " +
                                     "remote (a copy with other call options); rename it");
    } else if (method.name == "kServiceName") {
      reporter.error(method.loc, subject + " clashes with the constant 'kServiceName' of the " +
                                     "generated server and remote; rename it");
    } else if (auto it = aliases.find(method.name); it != aliases.end()) {
      reporter.error(method.loc, subject + " clashes with the alias '" + method.name +
                                     "' the generated client and remote declare for method '" +
                                     it->second + "'; rename it");
    }
  }
}

// Generated glue class name -> the type that gets it.
std::map<std::string, std::string> glueNames(const Schema& schema) {
  std::map<std::string, std::string> names;
  for (const Record& record : schema.records) {
    const std::string owner = describeRecord(record);
    if (record.kind == RecordKind::kService) {
      for (const char* suffix : {"Server", "Client", "Remote"}) names[record.name + suffix] = owner;
    } else if (record.kind == RecordKind::kActor) {
      for (const char* suffix : {"Server", "Ref"}) names[record.name + suffix] = owner;
    }
  }
  return names;
}

void checkTypeName(const std::string& what, const std::string& name, clang::SourceLocation loc,
                   const std::map<std::string, std::string>& glue, Reporter& reporter) {
  for (std::string_view nested : kCapnpNestedNames) {
    if (name != nested) continue;
    reporter.error(loc, what + " is named like the class Cap'n Proto generates inside every "
                               "struct and interface ('" + name + "'); rename it");
    return;
  }
  if (auto it = glue.find(name); it != glue.end()) {
    reporter.error(loc, what + " is named like the generated class '" + name + "' of " +
                            it->second + "; rename it");
    return;
  }
  checkAscii("type", name, loc, reporter);
}

}  // namespace

void checkCppGlue(const Schema& schema, Reporter& reporter) {
  const std::map<std::string, std::string> glue = glueNames(schema);
  for (const EnumDef& def : schema.enums) {
    checkTypeName("enum '" + def.qualifiedName + "'", def.name, def.loc, glue, reporter);
    for (const Enumerator& e : def.enumerators) checkAscii("enumerator", e.name, e.loc, reporter);
  }
  for (const Record& record : schema.records) {
    checkTypeName(describeRecord(record), record.name, record.loc, glue, reporter);
    if (record.kind == RecordKind::kMessage) {
      checkMessageShape(record, reporter);
      for (const Field& field : record.fields) checkAscii("field", field.name, field.loc, reporter);
    }
    for (const Method& method : record.methods) checkMethodShape(record, method, reporter);
    checkGeneratedMembers(record, reporter);
  }
}

}  // namespace moonpool::annotate
