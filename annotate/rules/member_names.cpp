// Rule member-names (see README.md "Rules"). Member names become lowerCamelCase in the
// schema (`user_id` -> `userId`); this rule rejects names that are empty (unnamed
// parameters), not identifiers (operators), Cap'n Proto reserved words, or that coincide
// after conversion with a sibling's name. Identical C++ method names are overloads and are
// left to the no-overloads rule.
#include "member_names.h"

#include <cctype>
#include <map>

#include "../capnp_names.h"

namespace moonpool::annotate {
namespace {

// Checks the members of one scope (one struct, one interface, one parameter list, one enum).
class Scope {
 public:
  Scope(std::string what, Reporter& reporter) : what_(std::move(what)), reporter_(reporter) {}

  void check(const std::string& kind, const std::string& name, clang::SourceLocation loc) {
    std::string schemaName = toCapnpMemberName(name);
    std::string subject = kind + " '" + name + "' " + what_;
    if (!isPlainIdentifier(name) || schemaName.empty() ||
        !std::isalpha(static_cast<unsigned char>(schemaName[0]))) {
      reporter_.error(loc, subject + " has no schema equivalent; rename it to a plain "
                                     "identifier or remove it");
      return;
    }
    if (isCapnpReservedWord(schemaName)) {
      reporter_.error(loc, subject + " is named like the Cap'n Proto keyword '" + schemaName +
                               "'; rename it");
      return;
    }
    auto [it, inserted] = seen_.emplace(schemaName, name);
    if (inserted || it->second == name) return;
    reporter_.error(loc, subject + " and '" + it->second + "' both become '" + schemaName +
                             "' in the schema; rename one of them");
  }

 private:
  std::string what_;
  Reporter& reporter_;
  std::map<std::string, std::string> seen_;  // schema name -> first C++ name
};

void checkMethod(const Record& record, const Method& method, Reporter& reporter) {
  Scope params("of method '" + method.name + "' in " + describeRecord(record), reporter);
  for (size_t i = 0; i < method.params.size(); ++i) {
    const Field& param = method.params[i];
    if (param.name.empty()) {
      reporter.error(param.loc, "parameter " + std::to_string(i + 1) + " of method '" +
                                    method.name + "' in " + describeRecord(record) +
                                    " has no name; name it (names are part of the schema)");
      continue;
    }
    params.check("parameter", param.name, param.loc);
  }
}

}  // namespace

void checkMemberNames(const Schema& schema, Reporter& reporter) {
  for (const Record& record : schema.records) {
    Scope members("of " + describeRecord(record), reporter);
    for (const Field& field : record.fields) members.check("field", field.name, field.loc);
    for (const Method& method : record.methods) {
      members.check("method", method.name, method.loc);
      if (!method.isTemplate) checkMethod(record, method, reporter);
    }
  }
  for (const EnumDef& def : schema.enums) {
    Scope enumerators("of enum '" + def.qualifiedName + "'", reporter);
    for (const Enumerator& enumerator : def.enumerators) {
      enumerators.check("enumerator", enumerator.name, enumerator.loc);
    }
  }
}

}  // namespace moonpool::annotate
